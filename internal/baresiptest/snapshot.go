package baresiptest

import (
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"time"
)

// SnapshotRGB asks baresip for a PNG of the video it receives
// (snapshot_recv) and returns the mean colour of the centre half of the
// picture, 0–255 per channel; ok is false when there is no picture yet.
func (p *Phone) SnapshotRGB() (r, g, b uint64, ok bool) {
	path := filepath.Join(p.Dir, fmt.Sprintf("snap-%d.png", time.Now().UnixNano()))
	if _, err := p.Command("snapshot_recv", path); err != nil {
		return 0, 0, 0, false
	}
	var img image.Image
	for range 20 { // snapshot writes the file with the next decoded frame
		time.Sleep(50 * time.Millisecond)
		f, err := os.Open(path)
		if err != nil {
			continue
		}
		img, err = png.Decode(f)
		f.Close()
		if err == nil {
			break
		}
	}
	if img == nil {
		return 0, 0, 0, false
	}
	bounds := img.Bounds()
	n := uint64(0)
	for y := bounds.Min.Y + bounds.Dy()/4; y < bounds.Max.Y-bounds.Dy()/4; y += 4 {
		for x := bounds.Min.X + bounds.Dx()/4; x < bounds.Max.X-bounds.Dx()/4; x += 4 {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			r, g, b, n = r+uint64(cr), g+uint64(cg), b+uint64(cb), n+1
		}
	}
	if n == 0 {
		return 0, 0, 0, false
	}
	return r / n >> 8, g / n >> 8, b / n >> 8, true
}

// Shows names the colour of the video baresip receives now: "red", "green"
// or "blue" by the dominant channel, "rgb(r,g,b)" for another, "" when
// there is no picture yet.
func (p *Phone) Shows() string {
	r, g, b, ok := p.SnapshotRGB()
	if !ok {
		return ""
	}
	switch {
	case r > 150 && g < 100 && b < 100:
		return "red"
	case g > 100 && r < 100 && b < 100:
		return "green"
	case b > 150 && r < 100 && g < 100:
		return "blue"
	}
	return fmt.Sprintf("rgb(%d,%d,%d)", r, g, b)
}
