package main

import (
	"bytes"
	"html/template"
	"os"
)

// visPage is the index.html visualize writes.
type visPage struct {
	Model, Image string
	Figures      []visFigure
}

type visFigure struct {
	File, Title, Caption string
}

var visTemplate = template.Must(template.New("index").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{.Model}} on {{.Image}}</title>
<style>
body { font-family: sans-serif; background: #1e1e1e; color: #ddd; margin: 2em; }
h1 { font-size: 1.4em; }
figure { margin: 0 0 2.5em 0; }
figcaption { margin-bottom: 0.6em; }
figcaption span { color: #999; }
img { image-rendering: pixelated; max-width: 100%; }
</style>
</head>
<body>
<h1>What {{.Model}} sees in {{.Image}}</h1>
{{range .Figures}}<figure>
<figcaption><b>{{.Title}}</b> <span>{{.Caption}}</span></figcaption>
<img src="{{.File}}" alt="{{.Title}}">
</figure>
{{end}}<p><span>Written by infer visualize.</span></p>
</body>
</html>
`))

func (p *visPage) write(path string) error {
	var b bytes.Buffer
	if err := visTemplate.Execute(&b, p); err != nil {
		return err
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}
