// Package maskgen draws synthetic face masks, reproducibly, where real masks
// sit.
//
// # Styles
//
//   - paper: the MaskInv protocol. A mask template image with five key
//     points is warped onto the face's five points (eyes, nose tip, mouth
//     corners) by the least-squares homography, after its key points are
//     shifted by a random integer offset (vertical in [−40, 40), horizontal
//     in [−10, 10) template pixels; a template pixel is 1/12 of a 112×112
//     crop pixel), and tinted with a uniform random colour. The template's
//     key points are the true 112×112 ArcFace template. The reference
//     implementation used the 96×112 template's x-coordinates on 112×112
//     crops, which shifts its masks 8 pixels to the left; ours are centred.
//     The template art is our own (a pleated mask drawn procedurally).
//   - surgical, n95, kn95, cloth, bandana: realistic masks drawn from the 68
//     landmarks (jaw line points 1–15, i.e. 2–16 in the 1-based numbering;
//     nose bridge 27–29; chin 8), so that they follow pose and face shape on
//     raw photos. Each is a mesh between a top curve over the nose bridge
//     and a bottom curve along the jaw, shaded (pleats, cup, fold and seam,
//     fabric folds), with anti-aliased, softened edges, the photo's own
//     light level and side-to-side gradient, a contact shadow along the top
//     edge, fine grain, and ear loops or straps. Textures: solid, twotone,
//     stripes, dots and check (gingham). On aligned crops, where no 68
//     landmarks are known, a mean face (canonical68) placed by a similarity
//     transform on the five points stands in.
//   - random (every style, equal weights) and weighted mixes such as
//     "mix:surgical=0.5,n95=0.3,cloth=0.2" (see ParseStyle).
//
// # Settings and placement
//
// A Config holds the style spec, the colour spec, the seed and, for the
// styles that have one (StyleHasShift), an optional fixed Shift replacing
// the random one; Config.String names the settings. Config.Apply places a
// mask by a Face (five key points, and 68 landmarks on raw photos);
// Config.ApplyAligned masks an aligned crop, placed by the ArcFace template
// at the crop's size and bounds.
//
// # Determinism
//
// Every random choice — style, colour, shift, texture, fit — comes from its
// own splitmix64 stream seeded by a hash of (seed, image key, choice name),
// so it depends on nothing else: not on the order images are processed in,
// nor on how many workers run. Config.Choose returns the choices as Params;
// Render draws Params exactly again, and Params.Algorithm names the drawing
// code's version. The same seed, key, image and landmarks give
// byte-identical pixels with the same build on the same architecture
// (floating-point contraction may differ on other architectures).
//
// # Coverage
//
// Render and Apply also return the binary coverage map: 255 where the
// mask's opacity is at least one half, 0 elsewhere.
//
// # Speed
//
// All drawing works on *image.NRGBA pixel slices: the paper warp is an
// inverse mapping over the warped template's bounding box with fixed-point
// bilinear taps; the realistic styles rasterise their mesh with integer
// edge functions, visiting only pixels near the mask. See docs/benchmarks.md.
package maskgen
