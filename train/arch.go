package train

import (
	"fmt"
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"

	"stride/proto/caffepb"
)

// Arch descriptions are a compact way to write a sequential CNN:
//
//	conv5x5x32-relu-pool2-conv5x5x64-relu-pool2-fc256-relu-fc10
//	[(conv3x3x32p1-relu)*2-pool2]*2-fc256-relu-dropout-fc10
//
// Layers are separated by '-'; a group in ( ) or [ ] followed by *N is
// repeated N times. The layers:
//
//	convKxKxN     convolution, K x K kernel, N outputs; suffixes sS
//	              (stride), pP (pad, or "same" for K/2), gG (groups),
//	              dD (dilation): conv3x3x64p1, conv5x5x32s2same
//	deconvKxKxN   transposed convolution, same suffixes
//	poolK         max pooling K x K, stride K (or sS), padding pP
//	avgpoolK      average pooling, likewise
//	gap           global average pooling
//	fcN           fully connected (InnerProduct) with N outputs
//	relu, lrelu[A], prelu, elu, sigmoid, tanh
//	bn            BatchNorm followed by a learned Scale (with bias)
//	lrn[N]        local response normalisation across N channels (5)
//	dropout[P]    dropout with ratio P (0.5)
//
// The net gets a Data layer reading the data set, a SoftmaxWithLoss on the
// last layer and an Accuracy layer in the TEST phase. Hidden convolution
// and fully connected layers start from msra weights, the last from
// xavier; biases start at 0 and learn at twice the rate without decay.

// ArchData describes the data layers of an arch net.
type ArchData struct {
	Source, TestSource string
	Batch, TestBatch   int
	Transform          *caffepb.TransformationParameter
}

// ParseArch turns an arch description into a Caffe train/test net.
func ParseArch(spec string, d ArchData) (*caffepb.NetParameter, error) {
	items, err := expandArch(strings.TrimSpace(spec))
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, fmt.Errorf("empty arch description")
	}
	b := &archBuilder{net: &caffepb.NetParameter{Name: proto.String(strings.TrimSpace(spec))}, top: "data", counts: map[string]int{}}
	b.dataLayers(d)
	lastParam := -1
	for i, it := range items {
		if err := b.layer(it); err != nil {
			return nil, fmt.Errorf("arch item %d %q: %w", i+1, it, err)
		}
		if t := b.net.Layer[len(b.net.Layer)-1].GetType(); t == "InnerProduct" || t == "Convolution" || t == "Deconvolution" {
			lastParam = len(b.net.Layer) - 1
		}
	}
	if lastParam < 0 {
		return nil, fmt.Errorf("the arch has no conv or fc layer to learn")
	}
	last := b.net.Layer[lastParam]
	xavier := &caffepb.FillerParameter{Type: proto.String("xavier")}
	if cp := last.ConvolutionParam; cp != nil {
		cp.WeightFiller = xavier
	}
	if ip := last.InnerProductParam; ip != nil {
		ip.WeightFiller = xavier
	}
	b.add(&caffepb.LayerParameter{Name: proto.String("accuracy"), Type: proto.String("Accuracy"),
		Bottom: []string{b.top, "label"}, Top: []string{"accuracy"},
		Include: []*caffepb.NetStateRule{{Phase: caffepb.Phase_TEST.Enum()}}})
	b.add(&caffepb.LayerParameter{Name: proto.String("loss"), Type: proto.String("SoftmaxWithLoss"),
		Bottom: []string{b.top, "label"}, Top: []string{"loss"}})
	return b.net, nil
}

// expandArch splits on '-' at depth 0 and expands repeated groups.
func expandArch(s string) ([]string, error) {
	var out []string
	for len(s) > 0 {
		var item string
		if s[0] == '(' || s[0] == '[' {
			closeCh := map[byte]byte{'(': ')', '[': ']'}[s[0]]
			depth, end := 0, -1
			for i := 0; i < len(s); i++ {
				switch s[i] {
				case '(', '[':
					depth++
				case ')', ']':
					depth--
					if depth == 0 && end < 0 {
						end = i
					}
				}
				if end >= 0 {
					break
				}
			}
			if end < 0 || s[end] != closeCh {
				return nil, fmt.Errorf("unbalanced %q in %q", s[0], s)
			}
			inner, err := expandArch(s[1:end])
			if err != nil {
				return nil, err
			}
			rest := s[end+1:]
			times := 1
			if strings.HasPrefix(rest, "*") {
				j := 1
				for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
					j++
				}
				n, err := strconv.Atoi(rest[1:j])
				if err != nil || n < 1 || n > 1000 {
					return nil, fmt.Errorf("bad repeat count in %q", rest)
				}
				times, rest = n, rest[j:]
			}
			for k := 0; k < times; k++ {
				out = append(out, inner...)
			}
			s = rest
		} else {
			j := strings.IndexByte(s, '-')
			if j < 0 {
				j = len(s)
			}
			item, s = s[:j], s[j:]
			if item == "" {
				return nil, fmt.Errorf("empty layer in the description")
			}
			if k := strings.IndexByte(item, '*'); k >= 0 {
				n, err := strconv.Atoi(item[k+1:])
				if err != nil || n < 1 || n > 1000 {
					return nil, fmt.Errorf("bad repeat count in %q", item)
				}
				for r := 0; r < n; r++ {
					out = append(out, item[:k])
				}
			} else {
				out = append(out, strings.ToLower(item))
			}
		}
		if len(s) > 0 {
			if s[0] != '-' {
				return nil, fmt.Errorf("expected '-' before %q", s)
			}
			s = s[1:]
			if s == "" {
				return nil, fmt.Errorf("the description ends with '-'")
			}
		}
	}
	return out, nil
}

type archBuilder struct {
	net    *caffepb.NetParameter
	top    string
	counts map[string]int
}

func (b *archBuilder) add(lp *caffepb.LayerParameter) { b.net.Layer = append(b.net.Layer, lp) }

func (b *archBuilder) name(kind string) string {
	b.counts[kind]++
	return fmt.Sprintf("%s%d", kind, b.counts[kind])
}

func (b *archBuilder) dataLayers(d ArchData) {
	for _, ph := range []caffepb.Phase{caffepb.Phase_TRAIN, caffepb.Phase_TEST} {
		src, batch := d.Source, d.Batch
		if ph == caffepb.Phase_TEST {
			src, batch = d.TestSource, d.TestBatch
			if src == "" {
				src = d.Source
			}
		}
		lp := &caffepb.LayerParameter{Name: proto.String("data"), Type: proto.String("Data"), Top: []string{"data", "label"},
			Include:        []*caffepb.NetStateRule{{Phase: ph.Enum()}},
			DataParam:      &caffepb.DataParameter{Source: proto.String(src), BatchSize: proto.Uint32(uint32(batch))},
			TransformParam: proto.Clone(d.Transform).(*caffepb.TransformationParameter)}
		if ph == caffepb.Phase_TEST {
			lp.TransformParam.Mirror = nil
		}
		b.add(lp)
	}
}

// simple maps parameterless layer names to Caffe types.
var simpleArch = map[string]string{
	"relu": "ReLU", "prelu": "PReLU", "elu": "ELU", "sigmoid": "Sigmoid", "tanh": "TanH",
}

// numPrefix splits "conv5x5x32p1" after the keyword.
func archNums(s string) (nums []int, suffix string, err error) {
	for {
		j := 0
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j == 0 {
			return nums, s, nil
		}
		n, err := strconv.Atoi(s[:j])
		if err != nil || n <= 0 || n > 1<<20 {
			return nil, "", fmt.Errorf("bad number %q", s[:j])
		}
		nums = append(nums, n)
		s = s[j:]
		if strings.HasPrefix(s, "x") {
			s = s[1:]
			continue
		}
		return nums, s, nil
	}
}

// archOpts parses suffixes such as s2, p1, same, g2, d2.
func archOpts(s string) (map[byte]int, bool, error) {
	opts := map[byte]int{}
	same := false
	for len(s) > 0 {
		if strings.HasPrefix(s, "same") {
			same, s = true, s[4:]
			continue
		}
		key := s[0]
		if !strings.ContainsRune("spgd", rune(key)) {
			return nil, false, fmt.Errorf("unknown option %q (use sN stride, pN pad, same, gN groups, dN dilation)", s)
		}
		j := 1
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		n, err := strconv.Atoi(s[1:j])
		if err != nil {
			return nil, false, fmt.Errorf("option %q needs a number", s[:1])
		}
		opts[key] = n
		s = s[j:]
	}
	return opts, same, nil
}

func (b *archBuilder) layer(it string) error {
	bias := func() []*caffepb.ParamSpec {
		return []*caffepb.ParamSpec{{LrMult: proto.Float32(1)}, {LrMult: proto.Float32(2), DecayMult: proto.Float32(0)}}
	}
	msra := &caffepb.FillerParameter{Type: proto.String("msra")}
	zero := &caffepb.FillerParameter{Type: proto.String("constant")}
	one := func(typ, kind string) *caffepb.LayerParameter {
		name := b.name(kind)
		lp := &caffepb.LayerParameter{Name: proto.String(name), Type: proto.String(typ), Bottom: []string{b.top}, Top: []string{name}}
		b.top = name
		return lp
	}
	inPlace := func(typ, kind string) *caffepb.LayerParameter {
		return &caffepb.LayerParameter{Name: proto.String(b.name(kind)), Type: proto.String(typ), Bottom: []string{b.top}, Top: []string{b.top}}
	}
	switch {
	case simpleArch[it] != "":
		b.add(inPlace(simpleArch[it], it))
		return nil
	case strings.HasPrefix(it, "lrelu"):
		lp := inPlace("ReLU", "lrelu")
		slope := float32(0.01)
		if rest := it[5:]; rest != "" {
			v, err := strconv.ParseFloat(rest, 32)
			if err != nil || v < 0 {
				return fmt.Errorf("bad slope %q", rest)
			}
			slope = float32(v)
		}
		lp.ReluParam = &caffepb.ReLUParameter{NegativeSlope: proto.Float32(slope)}
		b.add(lp)
		return nil
	case strings.HasPrefix(it, "dropout"):
		lp := inPlace("Dropout", "drop")
		ratio := float32(0.5)
		if rest := it[7:]; rest != "" {
			v, err := strconv.ParseFloat(rest, 32)
			if err != nil || v < 0 || v >= 1 {
				return fmt.Errorf("dropout ratio %q must be in [0, 1)", rest)
			}
			ratio = float32(v)
		}
		lp.DropoutParam = &caffepb.DropoutParameter{DropoutRatio: proto.Float32(ratio)}
		b.add(lp)
		return nil
	case it == "bn":
		b.add(one("BatchNorm", "bn"))
		sc := inPlace("Scale", "scale")
		sc.ScaleParam = &caffepb.ScaleParameter{BiasTerm: proto.Bool(true)}
		sc.Param = bias()
		b.add(sc)
		return nil
	case it == "gap":
		lp := one("Pooling", "pool")
		lp.PoolingParam = &caffepb.PoolingParameter{Pool: caffepb.PoolingParameter_AVE.Enum(), GlobalPooling: proto.Bool(true)}
		b.add(lp)
		return nil
	case strings.HasPrefix(it, "lrn"):
		lp := one("LRN", "norm")
		size := 5
		if rest := it[3:]; rest != "" {
			n, err := strconv.Atoi(rest)
			if err != nil || n < 1 || n%2 == 0 {
				return fmt.Errorf("lrn size %q must be a positive odd number", rest)
			}
			size = n
		}
		lp.LrnParam = &caffepb.LRNParameter{LocalSize: proto.Uint32(uint32(size)), Alpha: proto.Float32(1e-4), Beta: proto.Float32(0.75)}
		b.add(lp)
		return nil
	case strings.HasPrefix(it, "fc"):
		nums, rest, err := archNums(it[2:])
		if err != nil || len(nums) != 1 || rest != "" {
			return fmt.Errorf("write fcN, e.g. fc256")
		}
		lp := one("InnerProduct", "fc")
		lp.Param = bias()
		lp.InnerProductParam = &caffepb.InnerProductParameter{NumOutput: proto.Uint32(uint32(nums[0])), WeightFiller: msra, BiasFiller: zero}
		b.add(lp)
		return nil
	case strings.HasPrefix(it, "avgpool"), strings.HasPrefix(it, "maxpool"), strings.HasPrefix(it, "pool"):
		kind, method := "pool", caffepb.PoolingParameter_MAX
		body := strings.TrimPrefix(it, "pool")
		if strings.HasPrefix(it, "avgpool") {
			body, method = it[7:], caffepb.PoolingParameter_AVE
		} else if strings.HasPrefix(it, "maxpool") {
			body = it[7:]
		}
		nums, rest, err := archNums(body)
		if err != nil || len(nums) < 1 || len(nums) > 2 {
			return fmt.Errorf("write poolK (e.g. pool2, pool3s2)")
		}
		opts, same, err := archOpts(rest)
		if err != nil {
			return err
		}
		k := nums[0]
		s := k
		if v, ok := opts['s']; ok {
			s = v
		}
		pad := opts['p']
		if same {
			pad = k / 2
		}
		lp := one("Pooling", kind)
		lp.PoolingParam = &caffepb.PoolingParameter{Pool: method.Enum(), KernelSize: proto.Uint32(uint32(k)),
			Stride: proto.Uint32(uint32(s)), Pad: proto.Uint32(uint32(pad))}
		b.add(lp)
		return nil
	case strings.HasPrefix(it, "conv"), strings.HasPrefix(it, "deconv"):
		typ, body := "Convolution", it[4:]
		if strings.HasPrefix(it, "deconv") {
			typ, body = "Deconvolution", it[6:]
		}
		nums, rest, err := archNums(body)
		if err != nil || len(nums) != 3 {
			return fmt.Errorf("write convKxKxN (e.g. conv5x5x32), with optional sS, pP or same, gG, dD")
		}
		kh, kw, n := nums[0], nums[1], nums[2]
		opts, same, err := archOpts(rest)
		if err != nil {
			return err
		}
		cp := &caffepb.ConvolutionParameter{NumOutput: proto.Uint32(uint32(n)), WeightFiller: msra, BiasFiller: zero,
			KernelH: proto.Uint32(uint32(kh)), KernelW: proto.Uint32(uint32(kw))}
		if v, ok := opts['s']; ok {
			cp.Stride = []uint32{uint32(v)}
		}
		d := 1
		if v, ok := opts['d']; ok {
			cp.Dilation = []uint32{uint32(v)}
			d = v
		}
		switch {
		case same:
			cp.PadH, cp.PadW = proto.Uint32(uint32(d*(kh-1)/2)), proto.Uint32(uint32(d*(kw-1)/2))
		case opts['p'] > 0:
			cp.Pad = []uint32{uint32(opts['p'])}
		}
		if v, ok := opts['g']; ok {
			cp.Group = proto.Uint32(uint32(v))
		}
		lp := one(typ, map[string]string{"Convolution": "conv", "Deconvolution": "deconv"}[typ])
		lp.Param = bias()
		lp.ConvolutionParam = cp
		b.add(lp)
		return nil
	}
	return fmt.Errorf("unknown layer %q (conv, deconv, pool, avgpool, gap, fc, relu, lrelu, prelu, elu, sigmoid, tanh, bn, lrn, dropout)", it)
}
