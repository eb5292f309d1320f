package caffe

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"

	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"

	"stride/proto/caffepb"
)

// MaxNetBytes bounds the size of a net or solver definition file.
const MaxNetBytes = 64 << 20

// SyntaxError is a problem in a text (.prototxt) file, located by line and
// column (both 1-based; 0 when unknown).
type SyntaxError struct {
	File      string
	Line, Col int
	Msg       string
}

func (e *SyntaxError) Error() string {
	switch {
	case e.Line > 0 && e.Col > 0:
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
	case e.Line > 0:
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// netSource is a parsed net definition with what the importer needs to
// point at its text: the line of every layer and, for layers whose text
// holds fields unknown to BVLC Caffe, the error strict parsing gives.
type netSource struct {
	file string
	net  *caffepb.NetParameter
	// lines[i] is the line of net.Layer[i] (0 when unknown, e.g. for a
	// caffemodel).
	lines []int
	// unknown[i] is the strict-parsing error of net.Layer[i] when its text
	// has fields Stride's schema does not know (fields of another Caffe
	// fork's layers); nil otherwise.
	unknown []error
}

// ParseNet reads a net definition (.prototxt) and upgrades the legacy V0
// and V1 forms to the current one, so the result lists its layers in Layer.
// Fields Caffe does not know are an error, located by line and column.
func ParseNet(path string) (*caffepb.NetParameter, error) {
	text, err := readText(path)
	if err != nil {
		return nil, err
	}
	return ParseNetText(path, text)
}

// ParseNetText is ParseNet for text already in memory; name is used in
// error messages.
func ParseNetText(name string, text []byte) (*caffepb.NetParameter, error) {
	src, err := parseNetSource(name, text)
	if err != nil {
		return nil, err
	}
	for _, e := range src.unknown {
		if e != nil {
			return nil, e
		}
	}
	return src.net, nil
}

// ParseSolver reads solver settings (.prototxt) and upgrades the legacy
// solver_type enum to the type string.
func ParseSolver(path string) (*caffepb.SolverParameter, error) {
	text, err := readText(path)
	if err != nil {
		return nil, err
	}
	sp := &caffepb.SolverParameter{}
	if err := prototext.Unmarshal(text, sp); err != nil {
		return nil, textError(path, text, err)
	}
	if err := upgradeSolver(sp); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	nets := append([]*caffepb.NetParameter{sp.NetParam, sp.TrainNetParam}, sp.TestNetParam...)
	for _, np := range nets {
		if np == nil {
			continue
		}
		if err := UpgradeNet(np); err != nil {
			return nil, fmt.Errorf("%s: embedded net: %w", path, err)
		}
	}
	return sp, nil
}

func readText(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return nil, fmt.Errorf("%s is a folder, not a .prototxt file", path)
	}
	if fi.Size() > MaxNetBytes {
		return nil, fmt.Errorf("%s: file is %d bytes, more than the %d a net definition may have", path, fi.Size(), MaxNetBytes)
	}
	return os.ReadFile(path)
}

// parseNetSource parses a net definition strictly. When the only problems
// are unknown fields, it parses again ignoring them and records, per layer,
// the error strict parsing gives for that layer's text: the importer
// reports it only for layers it would translate, so a net using another
// fork's layer types fails naming that layer rather than one of its fields.
func parseNetSource(file string, text []byte) (*netSource, error) {
	if len(text) > MaxNetBytes {
		return nil, fmt.Errorf("%s: %d bytes, more than the %d a net definition may have", file, len(text), MaxNetBytes)
	}
	if looksBinary(text) {
		return nil, fmt.Errorf("%s: not a text net definition (it looks binary; a .caffemodel goes with --weights)", file)
	}
	net := &caffepb.NetParameter{}
	strictErr := prototext.Unmarshal(text, net)
	spans := scanLayers(text)
	var unknown map[int]error // by span index
	if strictErr != nil {
		if !isUnknownField(strictErr) {
			return nil, textError(file, text, strictErr)
		}
		net = &caffepb.NetParameter{}
		if err := (prototext.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(text, net); err != nil {
			return nil, textError(file, text, err)
		}
		unknown = map[int]error{}
		for i, sp := range spans {
			if err := parseBlockStrict(text, sp); err != nil {
				unknown[i] = textError(file, text, err)
			}
		}
		if len(unknown) == 0 {
			// The unknown field is outside every layer.
			return nil, textError(file, text, strictErr)
		}
	}
	if len(net.Layer) > 0 && len(net.Layers) > 0 {
		return nil, fmt.Errorf("%s: the net mixes current `layer` and legacy `layers` definitions; Caffe refuses such nets too", file)
	}
	field := "layer"
	if len(net.Layers) > 0 {
		field = "layers"
	}
	var lines []int
	var unk []error
	for i, sp := range spans {
		if sp.field == field {
			lines = append(lines, sp.line)
			unk = append(unk, unknown[i])
		}
	}
	n := len(net.Layer) + len(net.Layers)
	if len(lines) != n {
		// The scanner and the parser disagree (unusual syntax); lose the
		// line numbers rather than mislabel layers.
		lines, unk = make([]int, n), make([]error, n)
		for i, sp := range spans {
			if unknown[i] != nil && sp.field == field {
				return nil, unknown[i]
			}
		}
	}
	src := &netSource{file: file, net: net, lines: lines, unknown: unk}
	if err := upgradeNet(src); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return src, nil
}

// parseBlockStrict parses one layer's text on its own, strictly, padded so
// that error positions are those of the whole file.
func parseBlockStrict(text []byte, sp layerSpan) error {
	var b strings.Builder
	b.WriteString(strings.Repeat("\n", sp.line-1))
	b.WriteString(strings.Repeat(" ", sp.col-1))
	b.Write(text[sp.start:sp.end])
	return prototext.Unmarshal([]byte(b.String()), &caffepb.NetParameter{})
}

func isUnknownField(err error) bool {
	return strings.Contains(err.Error(), "unknown field")
}

func looksBinary(text []byte) bool {
	n := len(text)
	if n > 512 {
		n = 512
	}
	for _, c := range text[:n] {
		if c == 0 || c < 0x09 {
			return true
		}
	}
	return false
}

var posRe = regexp.MustCompile(`\s*\(line (\d+):(\d+)\)\s*:?\s*`)

// textError turns a prototext error into a SyntaxError with the file name
// and position.
func textError(file string, text []byte, err error) error {
	// protobuf-go prefixes "proto:" and a space or a no-break space.
	msg := strings.TrimLeft(strings.TrimPrefix(err.Error(), "proto:"), " \u00a0")
	if m := posRe.FindStringSubmatchIndex(msg); m != nil {
		line, _ := strconv.Atoi(msg[m[2]:m[3]])
		col, _ := strconv.Atoi(msg[m[4]:m[5]])
		rest := strings.TrimSpace(msg[:m[0]] + ": " + msg[m[1]:])
		rest = strings.Trim(rest, ": ")
		if strings.HasPrefix(rest, "syntax error: ") {
			rest = "syntax error: " + strings.TrimPrefix(rest, "syntax error: ")
		}
		return &SyntaxError{File: file, Line: line, Col: col, Msg: rest}
	}
	if strings.Contains(msg, "unexpected EOF") {
		line, col := endPosition(text)
		return &SyntaxError{File: file, Line: line, Col: col, Msg: "unexpected end of file (a closing brace is missing?)"}
	}
	return &SyntaxError{File: file, Msg: msg}
}

// endPosition returns the line and column just after the last non-space
// byte of text.
func endPosition(text []byte) (int, int) {
	end := len(strings.TrimRight(string(text), " \t\r\n"))
	line, col := 1, 1
	for _, c := range text[:end] {
		if c == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return line, col
}

// layerSpan locates one top-level `layer { ... }` or `layers { ... }` block.
type layerSpan struct {
	field      string // "layer" or "layers"
	line, col  int    // of the field name
	start, end int    // byte offsets: field name to closing brace (exclusive)
}

// scanLayers finds the top-level layer blocks of a text-format net. It is a
// tokenizer, not a parser: it skips comments and strings and counts braces,
// which is all that locating the blocks needs. Malformed text gives
// whatever it gives; the parser reports the real error.
func scanLayers(text []byte) []layerSpan {
	var spans []layerSpan
	line, col := 1, 1
	depth := 0
	var pending *layerSpan // a layer field name seen at depth 0
	var open *layerSpan    // a block being scanned
	advance := func(c byte) {
		if c == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	for i := 0; i < len(text); {
		c := text[i]
		switch {
		case c == '#':
			for i < len(text) && text[i] != '\n' {
				advance(text[i])
				i++
			}
			continue
		case c == '"' || c == '\'':
			advance(c)
			i++
			for i < len(text) && text[i] != c && text[i] != '\n' {
				if text[i] == '\\' && i+1 < len(text) {
					advance(text[i])
					i++
				}
				advance(text[i])
				i++
			}
			if i < len(text) {
				advance(text[i])
				i++
			}
			pending = nil
			continue
		case c == '{' || c == '<':
			if depth == 0 && pending != nil {
				open = pending
			}
			pending = nil
			depth++
		case c == '}' || c == '>':
			pending = nil
			if depth > 0 {
				depth--
			}
			if depth == 0 && open != nil {
				open.end = i + 1
				spans = append(spans, *open)
				open = nil
			}
		case c == ':' || c == ' ' || c == '\t' || c == '\r' || c == '\n':
			// keep pending across the optional colon and spaces
		case isIdentStart(c):
			j := i
			for j < len(text) && isIdentPart(text[j]) {
				j++
			}
			word := string(text[i:j])
			pending = nil
			if depth == 0 && (word == "layer" || word == "layers") {
				pending = &layerSpan{field: word, line: line, col: col, start: i}
			}
			for ; i < j; i++ {
				advance(text[i])
			}
			continue
		default:
			pending = nil
		}
		advance(c)
		i++
	}
	return spans
}

func isIdentStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func isIdentPart(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' }

// MaxWeightsBytes bounds the size of a caffemodel (protobuf's own limit).
const MaxWeightsBytes = 2<<30 - 1

// ParseWeights reads a binary caffemodel (a NetParameter holding the
// layers' blobs), upgrading legacy layer forms.
func ParseWeights(path string) (*caffepb.NetParameter, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return nil, fmt.Errorf("%s is a folder, not a .caffemodel file", path)
	}
	if fi.Size() > MaxWeightsBytes {
		return nil, fmt.Errorf("%s: file is %d bytes, more than the %d a caffemodel may have", path, fi.Size(), int64(MaxWeightsBytes))
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	net, err := DecodeWeights(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return net, nil
}

// DecodeWeights parses caffemodel bytes.
func DecodeWeights(data []byte) (*caffepb.NetParameter, error) {
	if len(data) == 0 {
		return nil, errors.New("empty caffemodel")
	}
	if len(data) >= 4 && string(data[:4]) == "\x89HDF" {
		return nil, errors.New("an HDF5 caffemodel (.caffemodel.h5); only the binary protobuf format is supported")
	}
	net := &caffepb.NetParameter{}
	if err := proto.Unmarshal(data, net); err != nil {
		return nil, fmt.Errorf("not a caffemodel (protobuf decoding failed: %v)", err)
	}
	if len(net.Layer) > 0 && len(net.Layers) > 0 {
		return nil, errors.New("the caffemodel mixes current and legacy layer definitions")
	}
	src := &netSource{net: net, lines: make([]int, len(net.Layer)+len(net.Layers)), unknown: make([]error, len(net.Layer)+len(net.Layers))}
	if err := upgradeNet(src); err != nil {
		return nil, err
	}
	return src.net, nil
}
