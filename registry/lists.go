package registry

import (
	"encoding/json"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// page applies the n and last parameters to sorted names: the names after
// last, at most n. next is true when more follow.
func (reg *Registry) page(r *http.Request, names []string) (out []string, n int, next bool, err *Error) {
	q := r.URL.Query()
	if last := q.Get("last"); last != "" {
		i, _ := slices.BinarySearch(names, last)
		for i < len(names) && names[i] <= last {
			i++
		}
		names = names[i:]
	}
	n = -1
	if s, ok := q["n"]; ok {
		v, perr := strconv.Atoi(s[0])
		if perr != nil || v < 0 {
			return nil, 0, false, newError(http.StatusBadRequest, CodePaginationInvalid, "invalid number of results requested", quoted(s[0]))
		}
		n = min(v, reg.o.maxListEntries)
	}
	if n >= 0 && len(names) > n {
		return names[:n], n, true, nil
	}
	return names, n, false, nil
}

// writeList writes a JSON list with a Link header to the next page.
func writeList(w http.ResponseWriter, r *http.Request, path string, v any, shown []string, n int, next bool) {
	if next && len(shown) > 0 {
		q := url.Values{"n": {strconv.Itoa(n)}, "last": {shown[len(shown)-1]}}
		w.Header().Set("Link", "<"+path+"?"+q.Encode()+`>; rel="next"`)
	}
	body, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// serveTags answers GET /v2/<name>/tags/list.
func (reg *Registry) serveTags(w http.ResponseWriter, r *http.Request, rt route) *Error {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return errMethod(r)
	}
	if !exists(reg.repoDir(rt.name) + "/_manifests") {
		return newError(http.StatusNotFound, CodeNameUnknown, "repository name not known to registry", map[string]string{"name": rt.name})
	}
	tags, err := listDir(reg.repoDir(rt.name) + "/_tags")
	if err != nil {
		return reg.storageError(r, err)
	}
	tags = slices.DeleteFunc(tags, func(t string) bool { return !validTag(t) })
	shown, n, next, perr := reg.page(r, tags)
	if perr != nil {
		return perr
	}
	if shown == nil {
		shown = []string{}
	}
	writeList(w, r, "/v2/"+rt.name+"/tags/list", struct {
		Name string   `json:"name"`
		Tags []string `json:"tags"`
	}{rt.name, shown}, shown, n, next)
	return nil
}

// ServeCatalog answers GET /v2/_catalog: the repositories that have had
// a manifest, sorted, with n/last pagination.
func (reg *Registry) ServeCatalog(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		errMethod(r).Write(w, r)
		return
	}
	names, err := reg.repositories()
	if err != nil {
		reg.storageError(r, err).Write(w, r)
		return
	}
	shown, n, next, perr := reg.page(r, names)
	if perr != nil {
		perr.Write(w, r)
		return
	}
	if shown == nil {
		shown = []string{}
	}
	writeList(w, r, "/v2/_catalog", struct {
		Repositories []string `json:"repositories"`
	}{shown}, shown, n, next)
}

// repositories lists the names of the repositories with a _manifests
// directory, sorted.
func (reg *Registry) repositories() ([]string, error) {
	var names []string
	root := reg.reposDir()
	err := filepath.WalkDir(root, func(p string, de fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !de.IsDir() || p == root {
			return nil
		}
		if strings.HasPrefix(de.Name(), "_") {
			if de.Name() == "_manifests" {
				rel, _ := filepath.Rel(root, filepath.Dir(p))
				names = append(names, filepath.ToSlash(rel))
			}
			return filepath.SkipDir
		}
		return nil
	})
	slices.Sort(names)
	return names, err
}

// maxReferrersPage bounds the bytes of one page of a referrers list (each
// descriptor carries its manifest's annotations, up to the manifest
// bound): a page holds at least one descriptor, then stops before this
// many bytes, and a Link header names the next page. Built whole, eight
// GETs of a subject with large referrers held 6.9 GiB.
const maxReferrersPage = 1 << 20

// serveReferrers answers GET /v2/<name>/referrers/<digest>, filtered by
// artifactType when asked, in pages bounded in bytes and, with n, in
// count (last: the descriptor file after which a page starts).
func (reg *Registry) serveReferrers(w http.ResponseWriter, r *http.Request, rt route) *Error {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return errMethod(r)
	}
	subject, rerr := parseDigest(rt.arg)
	if rerr != nil {
		return rerr
	}
	dir := reg.referrersDir(rt.name, subject)
	files, err := listDir(dir)
	if err != nil {
		return reg.storageError(r, err)
	}
	files, n, more, perr := reg.page(r, files)
	if perr != nil {
		return perr
	}
	want, filtered := r.URL.Query()["artifactType"]
	list := []json.RawMessage{}
	size, last := 0, ""
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			last = f
			continue // deleted meanwhile
		}
		var d descriptor
		if json.Unmarshal(b, &d) != nil || filtered && d.ArtifactType != want[0] {
			last = f
			continue
		}
		if len(list) > 0 && size+len(b)+1 > maxReferrersPage {
			more = true
			break
		}
		// The stored descriptor is our own JSON: passed on as it is, not
		// decoded and encoded again.
		list = append(list, json.RawMessage(b))
		size += len(b) + 1
		last = f
	}
	if filtered {
		w.Header().Set("OCI-Filters-Applied", "artifactType")
	}
	if more && last != "" {
		q := url.Values{"last": {last}}
		if n >= 0 {
			q.Set("n", strconv.Itoa(n))
		}
		if filtered {
			q.Set("artifactType", want[0])
		}
		w.Header().Set("Link", "</v2/"+rt.name+"/referrers/"+string(subject)+"?"+q.Encode()+`>; rel="next"`)
	}
	body, _ := json.Marshal(struct {
		SchemaVersion int               `json:"schemaVersion"`
		MediaType     string            `json:"mediaType"`
		Manifests     []json.RawMessage `json:"manifests"`
	}{2, MediaOCIIndex, list})
	w.Header().Set("Content-Type", MediaOCIIndex)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
	return nil
}
