package data

import (
	"bufio"
	"fmt"
	"image"
	"image/color"
	_ "image/gif" // decoders for image folders
	_ "image/jpeg"
	_ "image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// imageExts are the file types read from image folders.
var imageExts = map[string]bool{".jpg": true, ".jpeg": true, ".png": true, ".gif": true}

func isImage(name string) bool { return imageExts[strings.ToLower(filepath.Ext(name))] }

// FolderOptions sets how image files become a data set.
type FolderOptions struct {
	// Height and Width resize every image (bilinear); 0 keeps the size of
	// the first image and resizes the others to it.
	Height, Width int
	// Channels is 1 (gray) or 3 (RGB); 0 picks 1 when every image is gray.
	Channels int
}

type labelled struct {
	path  string
	label int32
}

// ReadFolder reads a folder with one sub-folder of images per class. Class
// labels follow the sub-folders' names in sorted order. The images are put
// in a fixed pseudo-random order (as Caffe's convert_imageset --shuffle
// does), so reading them in sequence does not give batches of one class.
func ReadFolder(root string, opt FolderOptions) (*Dataset, error) {
	classes, err := classDirs(root)
	if err != nil {
		return nil, err
	}
	if len(classes) == 0 {
		return nil, fmt.Errorf("%s: no sub-folders of images (one per class) found", root)
	}
	var items []labelled
	for i, c := range classes {
		ents, err := os.ReadDir(filepath.Join(root, c))
		if err != nil {
			return nil, err
		}
		for _, e := range ents {
			if !e.IsDir() && isImage(e.Name()) {
				items = append(items, labelled{filepath.Join(root, c, e.Name()), int32(i)})
			}
		}
	}
	rng := rand.New(rand.NewPCG(0x5EED, uint64(len(items))))
	rng.Shuffle(len(items), func(i, j int) { items[i], items[j] = items[j], items[i] })
	d, err := readImages(root, items, opt)
	if err != nil {
		return nil, err
	}
	d.Classes = classes
	return d, nil
}

// classDirs lists the sub-folders of root that hold images, sorted.
func classDirs(root string) ([]string, error) {
	ents, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		sub, err := os.ReadDir(filepath.Join(root, e.Name()))
		if err != nil {
			return nil, err
		}
		for _, s := range sub {
			if !s.IsDir() && isImage(s.Name()) {
				out = append(out, e.Name())
				break
			}
		}
	}
	sort.Strings(out)
	return out, nil
}

// ReadImageList reads Caffe's ImageData source: a text file with one
// "path label" per line, paths relative to rootFolder.
func ReadImageList(list, rootFolder string, opt FolderOptions) (*Dataset, error) {
	f, err := os.Open(list)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var items []labelled
	sc := bufio.NewScanner(f)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		i := strings.LastIndexAny(text, " \t")
		if i < 0 {
			return nil, fmt.Errorf("%s:%d: expected \"path label\"", list, line)
		}
		lab, err := strconv.Atoi(strings.TrimSpace(text[i+1:]))
		if err != nil || lab < 0 {
			return nil, fmt.Errorf("%s:%d: label %q is not a class index", list, line, text[i+1:])
		}
		items = append(items, labelled{rootFolder + strings.TrimSpace(text[:i]), int32(lab)})
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return readImages(list, items, opt)
}

// readImages decodes the files in parallel into one data set.
func readImages(name string, items []labelled, opt FolderOptions) (*Dataset, error) {
	if len(items) == 0 {
		return nil, fmt.Errorf("%s: no images (.jpg, .png, .gif) found", name)
	}
	imgs := make([]image.Image, len(items))
	errs := make([]error, len(items))
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				imgs[i], errs[i] = decodeFile(items[i].path)
			}
		}()
	}
	for i := range items {
		next <- i
	}
	close(next)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	h, w := opt.Height, opt.Width
	if h <= 0 || w <= 0 {
		b := imgs[0].Bounds()
		h, w = b.Dy(), b.Dx()
	}
	c := opt.Channels
	if c == 0 {
		c = 1
		for _, im := range imgs {
			if !isGray(im) {
				c = 3
				break
			}
		}
	}
	if c != 1 && c != 3 {
		return nil, fmt.Errorf("channels must be 1 or 3, got %d", c)
	}
	d := &Dataset{Name: name, N: len(items), C: c, H: h, W: w, Pixels: make([]uint8, len(items)*c*h*w), Labels: make([]int32, len(items))}
	for i, im := range imgs {
		toPlanar(im, c, h, w, d.Image(i))
		d.Labels[i] = items[i].label
	}
	return d, d.check()
}

func decodeFile(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	im, _, err := image.Decode(bufio.NewReader(f))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return im, nil
}

func isGray(im image.Image) bool {
	switch im.ColorModel() {
	case color.GrayModel, color.Gray16Model:
		return true
	}
	return false
}

// toPlanar samples im (bilinear when sizes differ) into c planes of h x w.
func toPlanar(im image.Image, c, h, w int, dst []uint8) {
	b := im.Bounds()
	sh, sw := b.Dy(), b.Dx()
	px := func(x, y int) (r, g, bl float64) {
		R, G, B, _ := im.At(b.Min.X+x, b.Min.Y+y).RGBA()
		return float64(R >> 8), float64(G >> 8), float64(B >> 8)
	}
	plane := h * w
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var r, g, bl float64
			if sh == h && sw == w {
				r, g, bl = px(x, y)
			} else {
				fy := (float64(y)+0.5)*float64(sh)/float64(h) - 0.5
				fx := (float64(x)+0.5)*float64(sw)/float64(w) - 0.5
				y0, x0 := clampi(int(floor(fy)), sh-1), clampi(int(floor(fx)), sw-1)
				y1, x1 := clampi(y0+1, sh-1), clampi(x0+1, sw-1)
				ay, ax := fy-floor(fy), fx-floor(fx)
				for _, t := range [4]struct {
					x, y int
					f    float64
				}{{x0, y0, (1 - ax) * (1 - ay)}, {x1, y0, ax * (1 - ay)}, {x0, y1, (1 - ax) * ay}, {x1, y1, ax * ay}} {
					pr, pg, pb := px(t.x, t.y)
					r, g, bl = r+t.f*pr, g+t.f*pg, bl+t.f*pb
				}
			}
			i := y*w + x
			if c == 1 {
				dst[i] = uint8(0.299*r + 0.587*g + 0.114*bl + 0.5)
			} else {
				dst[i], dst[plane+i], dst[2*plane+i] = uint8(r+0.5), uint8(g+0.5), uint8(bl+0.5)
			}
		}
	}
}

func floor(v float64) float64 {
	i := float64(int(v))
	if i > v {
		i--
	}
	return i
}

func clampi(v, hi int) int { return max(0, min(v, hi)) }
