package pin

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tailor-dev/tailor/internal/registrytest"
	"github.com/tailor-dev/tailor/resolve/resolvetest"
)

// admitPod posts an AdmissionReview of pod to the webhook and returns its
// response and the JSON Patch operations.
func admitPod(t *testing.T, url string, pod map[string]any) (*response, []patchOp) {
	t.Helper()
	obj, err := json.Marshal(pod)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(review{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview",
		Request: &request{UID: "u-1", Kind: groupKind{Version: "v1", Kind: "Pod"}, Namespace: "default", Operation: "CREATE", Object: obj}})
	resp, err := http.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var rv review
	if err := json.NewDecoder(resp.Body).Decode(&rv); err != nil || rv.Response == nil {
		t.Fatalf("status %d: %v", resp.StatusCode, err)
	}
	if rv.Response.UID != "u-1" || !rv.Response.Allowed {
		t.Fatalf("response %+v: want uid u-1, allowed", rv.Response)
	}
	var ops []patchOp
	if len(rv.Response.Patch) > 0 {
		if err := json.Unmarshal(rv.Response.Patch, &ops); err != nil {
			t.Fatal(err)
		}
	}
	return rv.Response, ops
}

func podOf(annotations map[string]string, images ...string) map[string]any {
	var cs []map[string]string
	for i, im := range images {
		cs = append(cs, map[string]string{"name": "c" + string(rune('0'+i)), "image": im})
	}
	md := map[string]any{"name": "p"}
	if annotations != nil {
		md["annotations"] = annotations
	}
	return map[string]any{"apiVersion": "v1", "kind": "Pod", "metadata": md, "spec": map[string]any{"containers": cs}}
}

// TestWebhook: of a pod's images, those pinned to a tailored index get
// its pin tag (the tag and registry as written, the digest kept) and the
// original is recorded; a pinned plain image, an index with nothing to
// choose, a tag and an unreadable image pass through unchanged.
func TestWebhook(t *testing.T) {
	host := registrytest.New(t, "")
	tailored, err := resolvetest.Push(host+"/app:1", resolvetest.Variants)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := resolvetest.Push(host+"/plain:1", []resolvetest.Variant{{Name: "a", Arch: "amd64"}, {Name: "b", Arch: "arm64"}})
	if err != nil {
		t.Fatal(err)
	}
	w, err := New()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(w)
	defer srv.Close()

	idx := tailored.Index.String()
	hex := strings.TrimPrefix(idx, "sha256:")
	images := []string{
		host + "/app@" + idx,   // pinned index: pin tag
		host + "/app:1@" + idx, // tag and digest: the digest counts
		host + "/app@" + tailored.Digests["generic"].String(), // a plain image
		host + "/plain@" + plain.Index.String(),               // nothing to choose
		host + "/app:1",                                       // a tag: the mirror tailors it already
	}
	resp, ops := admitPod(t, srv.URL, podOf(nil, images...))
	want := []patchOp{
		{Op: "replace", Path: "/spec/containers/0/image", Value: host + "/app:sha256-" + hex + ".tailor"},
		{Op: "replace", Path: "/spec/containers/1/image", Value: host + "/app:sha256-" + hex + ".tailor"},
	}
	if len(ops) != 3 || resp.PatchType != "JSONPatch" {
		t.Fatalf("patch %+v, want two images and the annotation", ops)
	}
	for i, w := range want {
		if ops[i] != w {
			t.Errorf("op %d = %+v, want %+v", i, ops[i], w)
		}
	}
	note := ops[2].Value.(map[string]any)[AnnotationPinned].(string)
	if ops[2].Path != "/metadata/annotations" || !strings.Contains(note, `"c0":"`+images[0]+`"`) || !strings.Contains(note, `"c1":"`+images[1]+`"`) {
		t.Errorf("annotation op %+v", ops[2])
	}
	// With annotations already there, one is added.
	_, ops = admitPod(t, srv.URL, podOf(map[string]string{"a": "b"}, images[0]))
	if len(ops) != 2 || ops[1].Path != "/metadata/annotations/tailor.dev~1pinned" {
		t.Errorf("ops %+v, want the image and tailor.dev~1pinned", ops)
	}
}

// TestWebhookUnreachable: an image whose registry does not answer leaves
// the pod unchanged, quickly (the timeout), with a warning.
func TestWebhookUnreachable(t *testing.T) {
	// A listener that accepts and never answers.
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer hang.Close()
	w, err := New(WithTimeout(300 * time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(w)
	defer srv.Close()
	start := time.Now()
	image := strings.TrimPrefix(hang.URL, "http://") + "/app@sha256:" + strings.Repeat("1", 64)
	resp, ops := admitPod(t, srv.URL, podOf(nil, image, "127.0.0.1:1/x@sha256:"+strings.Repeat("2", 64)))
	if el := time.Since(start); el > 3*time.Second {
		t.Errorf("answered after %s, want about the 300ms timeout", el)
	}
	if len(ops) != 0 || len(resp.Warnings) != 2 {
		t.Errorf("ops %+v warnings %q: want no patch, two warnings", ops, resp.Warnings)
	}
}

func TestWebhookBadInput(t *testing.T) {
	w, err := New()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(w)
	defer srv.Close()
	for _, body := range []string{"", "{", `{"kind":"AdmissionReview"}`, strings.Repeat("[", 5<<20)} {
		resp, err := http.Post(srv.URL, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("body %.20q: status %d, want 400", body, resp.StatusCode)
		}
	}
	// Not a pod, or a pod that is not JSON: allowed, unchanged.
	wr := w.admit(context.Background(), &request{UID: "x", Kind: groupKind{Kind: "Pod"}, Operation: "CREATE", Object: json.RawMessage(`"nope"`)})
	if !wr.Allowed || wr.Patch != nil || len(wr.Warnings) != 1 {
		t.Errorf("unreadable pod: %+v", wr)
	}
	wr = w.admit(context.Background(), &request{UID: "x", Kind: groupKind{Kind: "Deployment"}, Operation: "CREATE"})
	if !wr.Allowed || wr.Patch != nil {
		t.Errorf("deployment: %+v", wr)
	}
	if _, err := w.PinTag(context.Background(), "UPPER/case@sha256:xyz"); err == nil {
		t.Errorf("bad reference: no error")
	}
}
