package registry

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/opencontainers/go-digest"
	"github.com/tailor-dev/tailor/requirement"
)

// TestRefusesTailoredAnswer: an index carrying the tailored-answer mark is
// refused with 403 DENIED (not MANIFEST_INVALID, on which skopeo retries
// as a Docker list), and so are the same entries resent right after as a
// list without the mark; a list of those entries pushed to another
// repository, where no answer was refused, is stored.
func TestRefusesTailoredAnswer(t *testing.T) {
	_, base := newTest(t, "")
	list := func(repo, mt string, ann map[string]string) []byte {
		img := imageManifest(t, base, repo, nil, []byte("layer"))
		if a := putManifest(t, base, repo, string(digest.FromBytes(img)), MediaOCIManifest, img); a.status != http.StatusCreated {
			t.Fatalf("PUT child: %d %s", a.status, a.body)
		}
		b, _ := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": mt, "annotations": ann,
			"manifests": []map[string]any{{"mediaType": MediaOCIManifest, "digest": digest.FromBytes(img), "size": len(img),
				"platform": map[string]string{"os": "linux", "architecture": "amd64"}}}})
		return b
	}
	marked := list("team/app", MediaOCIIndex, map[string]string{requirement.AnnotationSourceIndex: string(digest.FromString("src"))})
	a := putManifest(t, base, "team/app", "v1", MediaOCIIndex, marked)
	if a.status != http.StatusForbidden || a.errorCode() != CodeDenied {
		t.Fatalf("PUT of a tailored answer: %d %s, want 403 DENIED", a.status, a.body)
	}
	stripped := list("team/app", MediaDockerList, nil)
	if a := putManifest(t, base, "team/app", "v1", MediaDockerList, stripped); a.status != http.StatusForbidden || a.errorCode() != CodeDenied {
		t.Errorf("PUT of the refused answer's entries without the mark: %d %s, want 403 DENIED", a.status, a.body)
	}
	if a := putManifest(t, base, "team/other", "v1", MediaDockerList, list("team/other", MediaDockerList, nil)); a.status != http.StatusCreated {
		t.Errorf("PUT of a plain list in another repository: %d %s, want 201", a.status, a.body)
	}
}
