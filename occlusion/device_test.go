package occlusion

import (
	"context"
	"image"
	"testing"

	"github.com/maskinv/workbench/internal/opencltest"
	"github.com/maskinv/workbench/model"
)

// TestNetEmbedderOnDevice: on an OpenCL device (PoCL in CI), the segment
// models bound to it give the CPU engine's embeddings.
func TestNetEmbedderOnDevice(t *testing.T) {
	dev, err := model.OpenDevice(model.DeviceSpec{Kind: model.DeviceOpenCL, Platform: -1, Device: -1}, model.DeviceOptions{})
	if err != nil {
		opencltest.Unavailable(t, err)
	}
	defer dev.Close()
	tc := loadTeacher(t)
	img := tc.align(t, "Angelina_Jolie/Angelina_Jolie_0003.jpg")
	onDev := teacherEmbedder(t, dev)
	defer onDev.Close()
	cpu := teacherEmbedder(t, nil)
	all := Grid{112, 8, 4}.Rects()
	rects := []image.Rectangle{all[0], all[13*27+13], all[len(all)-1], all[5*27+20]}
	faces := []*image.NRGBA{img}
	wantOrig, want, err := cpu.EmbedPatches(context.Background(), faces, rects, 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	gotOrig, got, err := onDev.EmbedPatches(context.Background(), faces, rects, 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	worst := maxDiff(gotOrig[0], wantOrig[0])
	for k := range rects {
		worst = max(worst, maxDiff(got[0][k], want[0][k]))
	}
	t.Logf("%s: largest difference from the CPU engine %.2g", dev, worst)
	if worst > 1e-4 {
		t.Errorf("device embeddings differ from the CPU engine's by %v", worst)
	}
}
