package imageio

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"testing"
)

// testPicture is a deterministic RGB picture with smooth and sharp parts.
func testPicture(w, h int) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := color.NRGBA{uint8(x * 255 / max(w-1, 1)), uint8(y * 255 / max(h-1, 1)), 40, 255}
			if (x/4+y/4)%2 == 0 {
				c.B = 220
			}
			m.SetNRGBA(x, y, c)
		}
	}
	return m
}

func encodePNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encodeJPEG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// pngHeaderOnly crafts a PNG whose IHDR declares w×h RGBA pixels, followed by
// a truncated IDAT: enough for DecodeConfig, and no pixel data at all.
func pngHeaderOnly(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		binary.Write(&b, binary.BigEndian, uint32(len(data)))
		crc := crc32.NewIEEE()
		crc.Write([]byte(typ))
		crc.Write(data)
		b.WriteString(typ)
		b.Write(data)
		binary.Write(&b, binary.BigEndian, crc.Sum32())
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 6 // 8-bit RGBA
	chunk("IHDR", ihdr)
	// An IDAT that promises 1 KiB and stops after a few bytes of zlib header.
	binary.Write(&b, binary.BigEndian, uint32(1024))
	b.WriteString("IDAT\x78\x9c\x00")
	return b.Bytes()
}

// cmykJPEG builds a valid 8×8 baseline JPEG with four components, each one
// flat block of the given ink value (0 = no ink). Go's encoder cannot write
// CMYK, so the test assembles the few segments by hand: quantisation all 1s,
// DC-only blocks, a DC Huffman table of 4-bit codes for categories 0..11
// and an AC table holding only end-of-block. With adobe=false the APP14
// marker is left out, which makes the colour model ambiguous.
func cmykJPEG(ink [4]uint8, adobe bool) []byte {
	var b bytes.Buffer
	seg := func(marker byte, data []byte) {
		b.Write([]byte{0xff, marker})
		binary.Write(&b, binary.BigEndian, uint16(len(data)+2))
		b.Write(data)
	}
	b.Write([]byte{0xff, 0xd8})
	if adobe {
		// "Adobe", version 100, flags 0, 0, transform 0 (CMYK, stored inverted).
		seg(0xee, []byte{'A', 'd', 'o', 'b', 'e', 0, 100, 0, 0, 0, 0, 0})
	}
	dqt := make([]byte, 65)
	for i := 1; i < 65; i++ {
		dqt[i] = 1
	}
	seg(0xdb, dqt)
	seg(0xc0, []byte{8, 0, 8, 0, 8, 4, 1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0, 4, 0x11, 0})
	dht := []byte{0x00, 0, 0, 0, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	dht = append(dht, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
	dht = append(dht, 0x10, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00)
	seg(0xc4, dht)
	seg(0xda, []byte{4, 1, 0x00, 2, 0x00, 3, 0x00, 4, 0x00, 0, 63, 0})

	var bits []bool
	put := func(v, n int) {
		for i := n - 1; i >= 0; i-- {
			bits = append(bits, v>>i&1 == 1)
		}
	}
	for _, c := range ink {
		stored := 255 - int(c)   // Adobe CMYK is stored inverted
		dc := 8 * (stored - 128) // a DC-only block decodes to dc/8 + 128
		cat, mag := 0, dc
		for a := max(dc, -dc); a > 0; a >>= 1 {
			cat++
		}
		if dc < 0 {
			mag = dc - 1 // JPEG's ones'-complement for negative values
		}
		put(cat, 4)
		put(mag&(1<<cat-1), cat)
		put(0, 1) // end of block
	}
	for len(bits)%8 != 0 {
		bits = append(bits, true)
	}
	for i := 0; i < len(bits); i += 8 {
		var v byte
		for _, bit := range bits[i : i+8] {
			v <<= 1
			if bit {
				v |= 1
			}
		}
		b.WriteByte(v)
		if v == 0xff {
			b.WriteByte(0) // byte stuffing
		}
	}
	b.Write([]byte{0xff, 0xd9})
	return b.Bytes()
}
