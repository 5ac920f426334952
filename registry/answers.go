package registry

import (
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tailor-dev/tailor/requirement"
)

// Bounds of the memory of refused answers: enough for every retry a
// client makes right after a refusal, small whatever clients send.
const (
	refusedMax = 1024
	refusedTTL = 10 * time.Minute
)

// refusedAnswers remembers, per repository, the entries of the tailored
// answers refused lately, so that the same entries resent as a list with
// no marks are refused too: skopeo and podman, when a list is refused,
// retry it as a Docker manifest list, a format without annotations, which
// would store the answer with its marks stripped.
type refusedAnswers struct {
	mu   sync.Mutex
	seen map[string]time.Time // refusedKey → when refused
}

// refusedKey names an index's entries in repository name.
func refusedKey(name string, m *manifest) string {
	ds := make([]string, len(m.manifests))
	for i, d := range m.manifests {
		ds[i] = string(d)
	}
	slices.Sort(ds)
	return name + "\x00" + strings.Join(ds, ",")
}

func (r *refusedAnswers) add(key string, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen == nil {
		r.seen = map[string]time.Time{}
	}
	if len(r.seen) >= refusedMax {
		for k, t := range r.seen {
			if now.Sub(t) > refusedTTL {
				delete(r.seen, k)
			}
		}
		for k := range r.seen { // still full: drop any one
			if len(r.seen) < refusedMax {
				break
			}
			delete(r.seen, k)
		}
	}
	r.seen[key] = now
}

func (r *refusedAnswers) has(key string, now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	t, ok := r.seen[key]
	return ok && now.Sub(t) <= refusedTTL
}

// refuseAnswer refuses an index that is a tailored answer (it carries
// dev.tailor.source.index), or the entries of one refused lately resent
// without the marks: an answer holds one host's pick, the other entries
// of that architecture dropped, so stored and pulled by tag it would hand
// every host that one build (DESIGN.md §4). The refusal is DENIED (403):
// no client should retry it in another format.
func (reg *Registry) refuseAnswer(name string, m *manifest) *Error {
	if !isIndexType(m.mediaType) {
		return nil
	}
	now := time.Now()
	key := refusedKey(name, m)
	src, marked := m.annotations[requirement.AnnotationSourceIndex]
	switch {
	case marked:
		reg.refused.add(key, now)
	case reg.refused.has(key, now):
		src = "(marks stripped: the entries of an answer refused before)"
	default:
		return nil
	}
	return newError(http.StatusForbidden, CodeDenied, "the index is a tailored answer (it carries "+requirement.AnnotationSourceIndex+"), "+
		"one host's pick of another index: push the index it was cut from, or copy through the untailored view "+
		"(profile none: /v2/_p/none/ or the Tailor-Profile: none header)",
		map[string]string{requirement.AnnotationSourceIndex: src})
}
