package caffe

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"stride/graph"
)

// WriteSummary prints the net layer by layer: name, type, bottoms, tops
// with their shapes, and parameter shapes with their learning-rate and
// decay multipliers; then inputs, outputs and notes.
func (n *Net) WriteSummary(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "net %q (%s phase): %d layers, %d parameters\n", n.Name, n.Phase, len(n.Layers), n.NumParams())
	fmt.Fprintln(tw, "LINE\tLAYER\tTYPE\tBOTTOMS\tTOPS\tPARAMS")
	for _, L := range n.Layers {
		var tops []string
		for i, t := range L.Tops {
			s := t
			if i < len(L.TopShapes) {
				s += " " + shapeString(L.TopShapes[i])
			}
			tops = append(tops, s)
		}
		var params []string
		for _, p := range L.Params {
			s := shapeString(p.Data.Shape)
			if p.LrMult != 1 || p.DecayMult != 1 {
				s += fmt.Sprintf(" lr*%g decay*%g", p.LrMult, p.DecayMult)
			}
			params = append(params, s)
		}
		if L.Dropped {
			params = append(params, "(dropped: "+L.Note+")")
		}
		line := "-"
		if L.Line > 0 {
			line = fmt.Sprint(L.Line)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", line, L.Name, L.Type, strings.Join(L.Bottoms, ", "),
			strings.Join(tops, ", "), strings.Join(params, ", "))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	io.WriteString(w, "inputs:")
	for _, v := range n.Graph.Inputs {
		fmt.Fprintf(w, " %s %s", v.Name, typeString(v.Type))
	}
	io.WriteString(w, "\noutputs:")
	for _, v := range n.Graph.Outputs {
		fmt.Fprintf(w, " %s %s", v.Name, typeString(v.Type))
	}
	io.WriteString(w, "\n")
	for _, note := range n.Notes {
		fmt.Fprintf(w, "note: %s\n", note)
	}
	return nil
}

// NumParams counts the elements of the net's parameter blobs (shared blobs
// once).
func (n *Net) NumParams() int64 {
	seen := map[*Param]bool{}
	var total int64
	for _, L := range n.Layers {
		for _, p := range L.Params {
			if !seen[p] {
				seen[p] = true
				total += int64(p.Data.Len())
			}
		}
	}
	return total
}

// Layer returns the layer named name, or nil.
func (n *Net) Layer(name string) *Layer {
	for _, L := range n.Layers {
		if L.Name == name {
			return L
		}
	}
	return nil
}

func shapeString(s []int) string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = fmt.Sprint(d)
	}
	return "[" + strings.Join(parts, "x") + "]"
}

func typeString(t graph.Type) string {
	if s, ok := t.Static(); ok {
		return shapeString(s)
	}
	return t.String()
}
