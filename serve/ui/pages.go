package ui

import (
	"html/template"
	"net/url"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/tailor-dev/tailor/resolve"
)

type homeData struct {
	Title, Prefix string
	Repositories  []Repository
	// Recent is true when Repositories are the images served recently
	// (a mirror), not a registry's catalog.
	Recent  bool
	Answers []Answer
	Error   string
}

// indexData is an index page: the matrix as inspect draws it.
type indexData struct {
	Title, Prefix, Repository, Tag string
	Matrix                         *resolve.Matrix
	Kind                           string
	Rows                           []matrixRow
	Answers                        []Answer
	// Handed counts, per entry, the answers that chose it.
	Handed []int64
}

// matrixRow is one target and, per entry, whether it gets it.
type matrixRow struct {
	Target string
	Gets   []bool
	Entry  int // -1: no fitting entry
}

func newIndexData(o options, repo, tag string, mx *resolve.Matrix, answers []Answer) indexData {
	d := indexData{Title: o.title, Prefix: o.prefix, Repository: repo, Tag: tag, Matrix: mx, Answers: answers}
	d.Kind = kindOf(mx)
	for _, a := range mx.Targets {
		row := matrixRow{Target: a.Target, Gets: make([]bool, len(mx.Entries)), Entry: -1}
		if a.Entry != nil {
			row.Gets[*a.Entry], row.Entry = true, *a.Entry
		}
		d.Rows = append(d.Rows, row)
	}
	d.Handed = make([]int64, len(mx.Entries))
	for _, a := range answers {
		for i, e := range mx.Entries {
			if e.Digest == a.Entry {
				d.Handed[i] += a.Count
			}
		}
	}
	return d
}

func kindOf(mx *resolve.Matrix) string {
	switch {
	case mx.MediaType == "application/vnd.docker.distribution.manifest.list.v2+json":
		return "Docker manifest list"
	case mx.MediaType.IsIndex():
		return "OCI image index"
	}
	return string(mx.MediaType)
}

var funcs = template.FuncMap{
	"short": func(h v1.Hash) string {
		if h.Hex == "" {
			return "-"
		}
		if len(h.Hex) > 12 {
			return h.Algorithm + ":" + h.Hex[:12]
		}
		return h.String()
	},
	"platform": func(p *v1.Platform) string {
		if p == nil {
			return "-"
		}
		s := p.OS + "/" + p.Architecture
		if p.Variant != "" {
			s += "/" + p.Variant
		}
		return s
	},
	"reqs": func(e resolve.Entry) string {
		if e.Requirements == nil {
			return "error: " + e.Error
		}
		return e.Requirements.String()
	},
	"indexURL": func(prefix, repo, tag string) string {
		return prefix + "index?" + url.Values{"repo": {repo}, "tag": {tag}}.Encode()
	},
	"when": func(a Answer) string { return a.Last.UTC().Format("2006-01-02 15:04:05Z") },
	"target": func(a Answer) string {
		if a.Target == "" {
			return "untouched"
		}
		return a.Target
	},
}

const style = `<style>
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
h1{font-size:1.4em}h2{font-size:1.1em;margin-top:1.6em}
table{border-collapse:collapse;margin:.5em 0}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left;font-size:.9em}
th{background:#f2f2f2}td.gets{background:#2e7d32;color:#fff;text-align:center}
td.none{color:#999}code{font-size:.95em}.err{color:#b00}
nav a{margin-right:1em}
</style>`

func parseHome() *template.Template {
	return template.Must(template.New("home").Funcs(funcs).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title>` + style + `</head>
<body>
<h1>{{.Title}}</h1>
{{if .Error}}<p class="err" id="error">{{.Error}}</p>{{end}}
<h2>{{if .Recent}}Images served recently{{else}}Repositories{{end}}</h2>
{{if .Repositories}}
<table id="repositories"><tr><th>repository</th><th>tags</th></tr>
{{range .Repositories}}{{$r := .Name}}<tr><td>{{.Name}}</td><td>{{range .Tags}}<a href="{{indexURL $.Prefix $r .}}">{{.}}</a> {{end}}</td></tr>
{{end}}</table>
{{else}}<p id="repositories">None yet.</p>{{end}}
<h2>Handed out</h2>
{{template "answers" .Answers}}
</body></html>
{{define "answers"}}{{if .}}<table id="answers"><tr><th>image</th><th>profile</th><th>target</th><th>entry</th><th>count</th><th>last</th></tr>
{{range .}}<tr><td>{{.Repository}}:{{.Tag}}</td><td><code>{{.Profile}}</code></td><td>{{target .}}</td><td><code>{{short .Entry}}</code></td><td>{{.Count}}</td><td>{{when .}}</td></tr>
{{end}}</table>{{else}}<p id="answers">Nothing handed out yet.</p>{{end}}{{end}}`))
}

func parseIndex(home *template.Template) *template.Template {
	return template.Must(template.Must(home.Clone()).New("index").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Repository}}:{{.Tag}} · {{.Title}}</title>` + style + `</head>
<body>
<nav><a href="{{.Prefix}}">{{.Title}}</a></nav>
<h1>{{.Repository}}:{{.Tag}}</h1>
<p>{{.Kind}} of {{len .Matrix.Entries}} entries, <code id="digest">{{.Matrix.Digest}}</code></p>
<h2>Entries</h2>
<table id="entries"><tr><th>entry</th><th>digest</th><th>platform</th><th>requirements</th><th>handed out</th></tr>
{{range $i, $e := .Matrix.Entries}}<tr><td>{{$e.Index}}</td><td><code>{{short $e.Digest}}</code></td><td>{{platform $e.Platform}}</td><td>{{reqs $e}}</td><td>{{index $.Handed $i}}</td></tr>
{{end}}</table>
<h2>Which target gets which entry</h2>
<table id="matrix"><tr><th>target</th>{{range .Matrix.Entries}}<th title="{{reqs .}}">{{.Index}}<br>{{reqs .}}</th>{{end}}</tr>
{{range .Rows}}<tr><td>{{.Target}}</td>{{range .Gets}}{{if .}}<td class="gets">●</td>{{else}}<td></td>{{end}}{{end}}{{if lt .Entry 0}}<td class="none">no fitting entry</td>{{end}}</tr>
{{end}}</table>
<h2>Handed out</h2>
{{template "answers" .Answers}}
</body></html>`))
}

func parseError() *template.Template {
	return template.Must(template.New("error").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.What}} · {{.Title}}</title>` + style + `</head>
<body><nav><a href="{{.Prefix}}">{{.Title}}</a></nav><h1>{{.What}}</h1><p class="err" id="error">{{.Detail}}</p></body></html>`))
}

// pageTemplates are the pages, parsed together on first use (index is a
// clone of home, which must be made before home is ever executed).
type pageTemplates struct{ home, index, error *template.Template }

var templates = sync.OnceValue(func() pageTemplates {
	home := parseHome()
	return pageTemplates{home: home, index: parseIndex(home), error: parseError()}
})

func homeTemplate() *template.Template  { return templates().home }
func indexTemplate() *template.Template { return templates().index }
func errorTemplate() *template.Template { return templates().error }
