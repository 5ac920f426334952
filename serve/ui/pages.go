package ui

import (
	"fmt"
	"html/template"
	"maps"
	"net/url"
	"slices"
	"strings"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/tailor-dev/tailor/internal/english"
	"github.com/tailor-dev/tailor/resolve"
)

type homeData struct {
	Title, Prefix, Host string
	// Query is the search (?q=); Total counts the repositories before it.
	Query        string
	Total        int
	Repositories []Repository
	// Recent is true when Repositories are the images served recently
	// (a mirror), not a registry's catalog.
	Recent      bool
	Answers     []Answer
	MoreAnswers int
	Settings    []Setting
	Error       string
}

// indexData is an index page: the entries with what their images say,
// and the matrix as inspect draws it.
type indexData struct {
	Title, Prefix, Host, Repository, Tag string
	Matrix                               *resolve.Matrix
	Kind                                 string
	// Total is the index's number of entries; Matrix holds the first
	// maxEntryRows.
	Total       int
	Entries     []entryRow
	Rows        []matrixRow
	Columns     int // entries drawn as matrix columns
	Annotations []keyValue
	Answers     []Answer
	MoreAnswers int
}

// entryRow is one entry and what is known of it.
type entryRow struct {
	resolve.Entry
	Target  string // CPU target, "generic", or "" when unreadable
	Image   *Image // nil when not read
	Handed  int64
	GetsBy  []string // the matrix's targets that get it
	Why     string   // why no target of the matrix gets it
	Created string
	Layers  []v1.Descriptor
	Notes   []keyValue // the descriptor's annotations
}

type keyValue struct{ Key, Value string }

// matrixRow is one target and, per drawn entry, whether it gets it.
type matrixRow struct {
	Target string
	Gets   []bool
	Entry  int // -1: no fitting entry
}

// imageData is the page of a tag that names a single image.
type imageData struct {
	Title, Prefix, Host, Repository, Tag string
	Digest                               v1.Hash
	Kind, Platform, Created              string
	Size                                 int64
	Layers                               []v1.Descriptor
	Annotations                          []keyValue
	Answers                              []Answer
	MoreAnswers                          int
}

func newIndexData(o options, host, repo, tag string, idx *Index, p *indexParts, answers []Answer, more int) indexData {
	mx := p.matrix
	d := indexData{Title: o.title, Prefix: o.prefix, Host: host, Repository: repo, Tag: tag, Matrix: mx, Total: p.total,
		Answers: answers, MoreAnswers: more, Annotations: sortedKV(idx.Annotations)}
	d.Kind = kindOf(mx)
	d.Columns = min(len(mx.Entries), maxMatrixColumns)
	d.Entries = make([]entryRow, len(mx.Entries))
	for i, e := range mx.Entries {
		r := entryRow{Entry: e, Image: p.images[i], Notes: sortedKV(idx.Manifests[i].Annotations)}
		if e.Requirements != nil {
			r.Target = e.Requirements.Target
			if r.Target == "" {
				r.Target = "generic"
			}
		}
		if img := r.Image; img != nil {
			r.Layers = img.Manifest.Layers
			if img.Config != nil && !img.Config.Created.IsZero() {
				r.Created = img.Config.Created.UTC().Format("2006-01-02 15:04 MST")
			}
		}
		d.Entries[i] = r
	}
	for _, a := range mx.Targets {
		row := matrixRow{Target: a.Target, Gets: make([]bool, d.Columns), Entry: -1}
		if a.Entry != nil {
			row.Entry = *a.Entry
			if *a.Entry < d.Columns {
				row.Gets[*a.Entry] = true
			}
			d.Entries[*a.Entry].GetsBy = append(d.Entries[*a.Entry].GetsBy, a.Target)
		}
		d.Rows = append(d.Rows, row)
	}
	for i := range d.Entries {
		if len(d.Entries[i].GetsBy) == 0 {
			d.Entries[i].Why = whyNone(d.Entries[i].Entry)
		}
	}
	for _, a := range answers {
		for i, e := range mx.Entries {
			if e.Digest == a.Entry {
				d.Entries[i].Handed += a.Count
			}
		}
	}
	return d
}

// whyNone says why no target of the matrix gets entry e, as inspect's
// "no target above gets entry" line does, with what would.
func whyNone(e resolve.Entry) string {
	switch {
	case e.Requirements == nil:
		return "its requirements cannot be read: " + e.Error
	case len(e.Requirements.Labels) > 0:
		var labels []string
		for _, k := range slices.Sorted(maps.Keys(e.Requirements.Labels)) {
			labels = append(labels, "label."+k+"="+e.Requirements.Labels[k])
		}
		return "needs host labels no target has: a profile with " + strings.Join(labels, ",") + " gets it (docker login -u cpu=...," + strings.Join(labels, ",") + ")"
	case len(e.Requirements.CUDA) > 0 || len(e.Requirements.ROCm) > 0:
		return "needs a GPU: a profile with one gets it (gpu=8.0,driver=...)"
	}
	return "no target above gets it: another entry fits each of them better"
}

func newImageData(o options, host, repo, tag string, idx *Index, img *Image, answers []Answer, more int) imageData {
	d := imageData{Title: o.title, Prefix: o.prefix, Host: host, Repository: repo, Tag: tag, Digest: idx.Digest,
		Kind: string(idx.MediaType), Size: img.Size(), Answers: answers, MoreAnswers: more,
		Layers: img.Manifest.Layers, Annotations: sortedKV(img.Manifest.Annotations)}
	if cf := img.Config; cf != nil {
		p := v1.Platform{OS: cf.OS, Architecture: cf.Architecture, Variant: cf.Variant}
		d.Platform = platformString(&p)
		if !cf.Created.IsZero() {
			d.Created = cf.Created.UTC().Format("2006-01-02 15:04 MST")
		}
	}
	return d
}

func sortedKV(m map[string]string) []keyValue {
	out := make([]keyValue, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, keyValue{k, m[k]})
	}
	return out
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

func platformString(p *v1.Platform) string {
	if p == nil {
		return "-"
	}
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// Bytes formats n bytes for people: 1.5 MiB.
func Bytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
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
	"platform": platformString,
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
	"bytes":  Bytes,
	"plural": english.Count,
	"join":   strings.Join,
	"size": func(img *Image) string {
		if img == nil {
			return "-"
		}
		return Bytes(img.Size())
	},
}

const style = `<style>
body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:100%}
h1{font-size:1.4em;word-break:break-all}h2{font-size:1.1em;margin-top:1.6em}
table{border-collapse:collapse;margin:.5em 0}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left;font-size:.9em;vertical-align:top}
th{background:#f2f2f2}td.gets{background:#2e7d32;color:#fff;text-align:center}
td.none{color:#999}code{font-size:.95em}.err{color:#b00}.why{color:#8a5a00;font-size:.85em}
nav a{margin-right:1em}
.scroll{overflow-x:auto;max-width:100%}
.copy{user-select:all;-webkit-user-select:all;background:#f6f6f6;border:1px solid #ddd;padding:.1em .3em;word-break:break-all}
pre.copy{white-space:pre-wrap;padding:.5em}
.badge{display:inline-block;border-radius:.8em;padding:0 .5em;font-size:.8em;background:#e3ecf7;color:#1d4f91;white-space:nowrap}
.badge.t{background:#e6f4e6;color:#2e5e2e}
.nw{white-space:nowrap}
th.col{font-weight:normal;text-align:center;min-width:2.5em}
details{margin:.3em 0}summary{cursor:pointer}
form input[type=search]{padding:.2em .4em;min-width:20em}
</style>`

func parseHome() *template.Template {
	return template.Must(template.New("home").Funcs(funcs).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title>` + style + `</head>
<body>
<h1>{{.Title}}</h1>
{{if .Error}}<p class="err" id="error">{{.Error}}</p>{{end}}
<form method="get" action="{{.Prefix}}"><input type="search" name="q" value="{{.Query}}" placeholder="search repositories and tags" aria-label="search"> <button type="submit">search</button></form>
<h2>{{if .Recent}}Images served recently{{else}}Repositories{{end}}</h2>
{{if .Repositories}}
{{if .Query}}<p id="matches">{{len .Repositories}} of {{.Total}} match <code>{{.Query}}</code></p>{{end}}
<table id="repositories"><tr><th>repository</th><th>tags</th></tr>
{{range .Repositories}}{{$r := .Name}}<tr><td>{{.Name}}</td><td>{{range .Tags}}<a href="{{indexURL $.Prefix $r .}}">{{.}}</a> {{end}}</td></tr>
{{end}}</table>
{{else if .Query}}<p id="repositories">Nothing matches <code>{{.Query}}</code>.</p>{{else}}<p id="repositories">None yet.</p>{{end}}
<h2>Handed out</h2>
{{template "answers" .}}
{{if .Settings}}<h2>This server</h2>
<table id="settings">{{range .Settings}}<tr><th>{{.Name}}</th><td>{{.Value}}</td></tr>
{{end}}</table>{{end}}
</body></html>
{{define "answers"}}{{if .Answers}}<table id="answers"><tr><th>image</th><th>profile</th><th>target</th><th>entry</th><th>count</th><th>last</th></tr>
{{range .Answers}}<tr><td>{{.Repository}}:{{.Tag}}</td><td><code>{{.Profile}}</code></td><td>{{target .}}</td><td><code>{{short .Entry}}</code></td><td>{{.Count}}</td><td>{{when .}}</td></tr>
{{end}}</table>{{if .MoreAnswers}}<p>and {{.MoreAnswers}} more</p>{{end}}{{else}}<p id="answers">Nothing handed out yet.</p>{{end}}{{end}}
{{define "pull"}}<h2>Pull</h2>
<p>With this server's default profile, or as tailor's client chooses for the host it runs on:</p>
<pre class="copy" id="pull">docker pull {{.Host}}/{{.Repository}}:{{.Tag}}</pre>
<pre class="copy" id="pull-tailor">tailor run {{.Host}}/{{.Repository}}:{{.Tag}}</pre>
<p>For another machine, log in with its profile as user name (a server started with <code>--login</code>), any password:</p>
<pre class="copy" id="pull-login">docker login {{.Host}} -u cpu=zen3 -p x
docker pull {{.Host}}/{{.Repository}}:{{.Tag}}</pre>{{end}}
{{define "layers"}}<table class="layers"><tr><th>layer</th><th>size</th><th>media type</th></tr>
{{range .}}<tr><td><code class="copy">{{.Digest}}</code></td><td>{{bytes .Size}}</td><td>{{.MediaType}}</td></tr>
{{end}}</table>{{end}}
{{define "annotations"}}<table class="annotations">{{range .}}<tr><th>{{.Key}}</th><td><code>{{.Value}}</code></td></tr>
{{end}}</table>{{end}}`))
}

func parseIndex(home *template.Template) *template.Template {
	return template.Must(template.Must(home.Clone()).New("index").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Repository}}:{{.Tag}} · {{.Title}}</title>` + style + `</head>
<body>
<nav><a href="{{.Prefix}}">{{.Title}}</a></nav>
<h1>{{.Repository}}:{{.Tag}}</h1>
<p>{{.Kind}} of {{plural .Total "entry" "entries"}}{{if gt .Total (len .Entries)}} (the first {{len .Entries}} shown){{end}}, <code id="digest" class="copy">{{.Matrix.Digest}}</code></p>
{{template "pull" .}}
<h2>Entries</h2>
<div class="scroll"><table id="entries"><tr><th>entry</th><th>digest</th><th>platform</th><th>requirements</th><th>handed out</th><th>size</th><th>pushed</th><th>who gets it</th></tr>
{{range .Entries}}<tr><td>{{.Index}}</td><td><code>{{short .Digest}}</code></td><td>{{platform .Platform}}</td><td>{{reqs .Entry}}</td><td>{{.Handed}}</td><td class="nw">{{size .Image}}</td><td class="nw">{{or .Created "-"}}</td><td>{{if .GetsBy}}{{join .GetsBy ", "}}{{else}}<span class="why">{{.Why}}</span>{{end}}</td></tr>
{{end}}</table></div>
<h2>Which target gets which entry</h2>
{{if lt .Columns (len .Entries)}}<p>The first {{.Columns}} entries are drawn; the table above names the target of every entry.</p>{{end}}
<div class="scroll"><table id="matrix"><tr><th>target</th>{{range $i, $e := .Entries}}{{if lt $i $.Columns}}<th class="col" title="{{reqs .Entry}}">{{.Index}}<br><span class="badge t">{{.Target}}</span></th>{{end}}{{end}}</tr>
{{range .Rows}}<tr><td>{{.Target}}</td>{{range .Gets}}{{if .}}<td class="gets">●</td>{{else}}<td></td>{{end}}{{end}}{{if lt .Entry 0}}<td class="none">no fitting entry</td>{{end}}</tr>
{{end}}</table></div>
<h2>Entry details</h2>
{{range .Entries}}<details id="entry-{{.Index}}"><summary>entry {{.Index}} <span class="badge">{{platform .Platform}}</span> <span class="badge t">{{.Target}}</span> {{size .Image}}</summary>
<p>digest <code class="copy">{{.Digest}}</code></p>
<pre class="copy">docker pull {{$.Host}}/{{$.Repository}}@{{.Digest}}</pre>
{{if .Notes}}{{template "annotations" .Notes}}{{end}}
{{if .Layers}}{{template "layers" .Layers}}{{else if not .Image}}<p>Not read (only the first entries' images are).</p>{{end}}
</details>
{{end}}
{{if .Annotations}}<h2>Index annotations</h2>{{template "annotations" .Annotations}}{{end}}
<h2>Handed out</h2>
{{template "answers" .}}
</body></html>`))
}

func parseImage(home *template.Template) *template.Template {
	return template.Must(template.Must(home.Clone()).New("image").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Repository}}:{{.Tag}} · {{.Title}}</title>` + style + `</head>
<body>
<nav><a href="{{.Prefix}}">{{.Title}}</a></nav>
<h1>{{.Repository}}:{{.Tag}}</h1>
<p id="kind">A single image ({{.Kind}}): every client gets it as it is, there is nothing to tailor. <code id="digest" class="copy">{{.Digest}}</code></p>
<table id="image"><tr><th>platform</th><td>{{if .Platform}}<span class="badge">{{.Platform}}</span>{{else}}-{{end}}</td></tr>
<tr><th>size</th><td>{{bytes .Size}}</td></tr><tr><th>pushed</th><td>{{or .Created "-"}}</td></tr></table>
{{template "pull" .}}
<h2>Layers</h2>
{{template "layers" .Layers}}
{{if .Annotations}}<h2>Annotations</h2>{{template "annotations" .Annotations}}{{end}}
<h2>Handed out</h2>
{{template "answers" .}}
</body></html>`))
}

func parseError() *template.Template {
	return template.Must(template.New("error").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.What}} · {{.Title}}</title>` + style + `</head>
<body><nav><a href="{{.Prefix}}">{{.Title}}</a></nav><h1>{{.What}}</h1><p class="err" id="error">{{.Detail}}</p></body></html>`))
}

// pageTemplates are the pages, parsed together on first use (index and
// image are clones of home, which must be made before home is ever
// executed).
type pageTemplates struct{ home, index, image, error *template.Template }

var templates = sync.OnceValue(func() pageTemplates {
	home := parseHome()
	return pageTemplates{home: home, index: parseIndex(home), image: parseImage(home), error: parseError()}
})

func homeTemplate() *template.Template  { return templates().home }
func indexTemplate() *template.Template { return templates().index }
func imageTemplate() *template.Template { return templates().image }
func errorTemplate() *template.Template { return templates().error }
