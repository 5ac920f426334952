package match

import (
	"slices"
	"strconv"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/tailor-dev/tailor/requirement"
)

// verdict is what evaluating one entry gives, apart from its index.
type verdict struct {
	reqs   requirement.Requirements
	checks []Check
	fits   bool
	score  score
}

// verdictCache remembers the verdict on each distinct entry shape (its
// platform and the annotations Match reads) within one Match call: an index
// of thousands of entries has few distinct shapes. Entries whose
// requirements cannot be read are never cached, so each error names its own
// entry.
type verdictCache struct {
	byShape map[string]*verdict
	key     []byte
}

func newVerdictCache() *verdictCache {
	return &verdictCache{byShape: map[string]*verdict{}}
}

// shapeKeys are the annotations that decide an entry's verdict.
var shapeKeys = [...]string{
	requirement.AnnotationCPUTarget, requirement.AnnotationCPUFeatures,
	requirement.AnnotationCUDAArch, requirement.AnnotationCUDAVersion,
	requirement.AnnotationROCmArch, requirement.AnnotationRequires,
	requirement.AnnotationVerified, requirement.AnnotationVerifiedNeeds,
	annotationReferenceType,
}

// shape writes the cache key of d into c.key; ok is false when d carries
// a dev.tailor.* annotation outside shapeKeys (a typo FromDescriptor must
// report). Each field is length-prefixed, so no two shapes share a key.
func (c *verdictCache) shape(d v1.Descriptor) bool {
	var vals [len(shapeKeys)]string
	var set [len(shapeKeys)]bool
	for k, v := range d.Annotations {
		n := slices.Index(shapeKeys[:], k)
		if n < 0 {
			if strings.HasPrefix(k, requirement.AnnotationPrefix) {
				return false
			}
			continue
		}
		vals[n], set[n] = v, true
	}
	b := c.key[:0]
	field := func(s string) {
		b = strconv.AppendInt(b, int64(len(s)), 10)
		b = append(b, ':')
		b = append(b, s...)
	}
	field(string(d.MediaType))
	if p := d.Platform; p != nil {
		field(p.OS)
		field(p.Architecture)
		field(p.Variant)
		b = strconv.AppendInt(b, int64(len(p.Features)), 10)
		for _, f := range p.Features {
			field(f)
		}
	}
	for n := range shapeKeys {
		b = append(b, '|')
		if set[n] {
			field(vals[n])
		}
	}
	c.key = b
	return true
}

// judged is one entry's verdict (shared by entries of the same shape) and
// its score with its own index.
type judged struct {
	v     *verdict
	score score
}

// evaluate judges entry i, from the cache when an entry of the same shape
// was seen.
func (h *host) evaluate(i int, d v1.Descriptor, o *options, cache *verdictCache) (judged, error) {
	ok := cache.shape(d)
	v, hit := cache.byShape[string(cache.key)]
	if !ok || !hit {
		fresh, err := h.judge(i, d, o)
		if err != nil {
			return judged{}, err
		}
		v = &fresh
		if ok && (v.reqs.Source != "" || len(v.checks) == 1) {
			cache.byShape[string(cache.key)] = v
		}
	}
	j := judged{v: v, score: v.score}
	j.score.index = i
	return j, nil
}

// candidate is the Candidate of entry d judged j, ranked rank, its checks
// copied to the front of buf; it returns the rest of buf.
func (j judged) candidate(d v1.Descriptor, rank int, buf []Check) (Candidate, []Check) {
	n := copy(buf, j.v.checks)
	return Candidate{
		Index: j.score.index, Descriptor: d, Reqs: j.v.reqs, Fits: j.v.fits,
		Rank: rank, Checks: buf[:n:n], score: j.score,
	}, buf[n:]
}
