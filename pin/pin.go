package pin

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/tailor-dev/tailor/remote"
	"github.com/tailor-dev/tailor/requirement"
	"github.com/tailor-dev/tailor/serve"
)

// AnnotationPinned is the pod annotation the webhook writes: a JSON object
// of container name to the pinned reference it replaced, so what signature
// policy verified stays on the pod.
const AnnotationPinned = "tailor.dev/pinned"

// DefaultTimeout bounds the registry reads of one admission request; keep
// it under the webhook's timeoutSeconds.
const DefaultTimeout = 2 * time.Second

// maxReviewSize bounds an AdmissionReview body (the API server sends at
// most about 3 MiB).
const maxReviewSize = 4 << 20

// maxCache bounds the decisions kept per digest (digests never change
// meaning, so a decision never goes stale).
const maxCache = 4096

// Option configures a Webhook.
type Option func(*Webhook) error

// WithClient reads manifests with c (default: remote.New()).
func WithClient(c *remote.Client) Option {
	return func(w *Webhook) error { w.client = c; return nil }
}

// WithTimeout bounds the registry reads of one request (default
// DefaultTimeout).
func WithTimeout(d time.Duration) Option {
	return func(w *Webhook) error {
		if d <= 0 {
			return fmt.Errorf("pin: timeout %s: want more than 0", d)
		}
		w.timeout = d
		return nil
	}
}

// WithLogger logs decisions and failures to l (default: discard).
func WithLogger(l *slog.Logger) Option {
	return func(w *Webhook) error { w.logger = l; return nil }
}

// Webhook is the mutating admission webhook (an http.Handler of
// AdmissionReview v1 requests for pods).
type Webhook struct {
	client  *remote.Client
	timeout time.Duration
	logger  *slog.Logger

	mu    sync.Mutex
	cache map[string]bool // digest reference -> worth a pin tag
}

// New returns a Webhook.
func New(opts ...Option) (*Webhook, error) {
	w := &Webhook{timeout: DefaultTimeout, logger: slog.New(slog.DiscardHandler), cache: map[string]bool{}}
	for _, o := range opts {
		if err := o(w); err != nil {
			return nil, err
		}
	}
	if w.client == nil {
		c, err := remote.New()
		if err != nil {
			return nil, err
		}
		w.client = c
	}
	return w, nil
}

// review is the part of an AdmissionReview (admission.k8s.io/v1) the
// webhook reads and writes.
type review struct {
	APIVersion string    `json:"apiVersion"`
	Kind       string    `json:"kind"`
	Request    *request  `json:"request,omitempty"`
	Response   *response `json:"response,omitempty"`
}

type request struct {
	UID       string          `json:"uid"`
	Kind      groupKind       `json:"kind"`
	Namespace string          `json:"namespace"`
	Name      string          `json:"name"`
	Operation string          `json:"operation"`
	Object    json.RawMessage `json:"object"`
}

type groupKind struct {
	Group, Version, Kind string
}

type response struct {
	UID       string   `json:"uid"`
	Allowed   bool     `json:"allowed"`
	PatchType string   `json:"patchType,omitempty"`
	Patch     []byte   `json:"patch,omitempty"`
	Warnings  []string `json:"warnings,omitempty"`
}

// pod is the part of a Pod the webhook reads.
type pod struct {
	Metadata struct {
		Name         string            `json:"name"`
		GenerateName string            `json:"generateName"`
		Annotations  map[string]string `json:"annotations"`
	} `json:"metadata"`
	Spec struct {
		Containers     []container `json:"containers"`
		InitContainers []container `json:"initContainers"`
	} `json:"spec"`
}

type container struct {
	Name  string `json:"name"`
	Image string `json:"image"`
}

// patchOp is one JSON Patch (RFC 6902) operation.
type patchOp struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value any    `json:"value,omitempty"`
}

// ServeHTTP answers one AdmissionReview: always allowed, with a patch
// when some image gets a pin tag. A body it cannot read is a 400, which
// the API server, under failurePolicy Ignore, lets pass.
func (w *Webhook) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(rw, "POST an AdmissionReview", http.StatusMethodNotAllowed)
		return
	}
	var rv review
	dec := json.NewDecoder(http.MaxBytesReader(rw, r.Body, maxReviewSize))
	if err := dec.Decode(&rv); err != nil || rv.Request == nil {
		http.Error(rw, fmt.Sprintf("want an AdmissionReview v1 with a request: %v", err), http.StatusBadRequest)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), w.timeout)
	defer cancel()
	resp := w.admit(ctx, rv.Request)
	out := review{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview", Response: resp}
	rw.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(rw).Encode(out)
}

// admit decides one request: the patch for the pod's pinned images.
func (w *Webhook) admit(ctx context.Context, req *request) *response {
	resp := &response{UID: req.UID, Allowed: true}
	if req.Kind.Kind != "Pod" || (req.Operation != "" && req.Operation != "CREATE") {
		return resp
	}
	var p pod
	if err := json.Unmarshal(req.Object, &p); err != nil {
		resp.Warnings = append(resp.Warnings, "tailor pin: pod unreadable, left unchanged: "+err.Error())
		return resp
	}
	podName := req.Namespace + "/" + p.Metadata.Name
	if p.Metadata.Name == "" {
		podName = req.Namespace + "/" + p.Metadata.GenerateName + "*"
	}
	pinned := map[string]string{}
	var ops []patchOp
	for _, list := range []struct {
		path string
		cs   []container
	}{{"/spec/initContainers", p.Spec.InitContainers}, {"/spec/containers", p.Spec.Containers}} {
		for i, c := range list.cs {
			to, err := w.pinTag(ctx, c.Image)
			if err != nil {
				w.logger.Warn("pinned image left unchanged", "pod", podName, "container", c.Name, "image", c.Image, "err", err)
				resp.Warnings = append(resp.Warnings, fmt.Sprintf("tailor pin: %s left as it is (%v): the runtime chooses its entry", c.Name, err))
				continue
			}
			if to == "" {
				continue
			}
			ops = append(ops, patchOp{Op: "replace", Path: fmt.Sprintf("%s/%d/image", list.path, i), Value: to})
			pinned[c.Name] = c.Image
			w.logger.Info("pinned image tailored by pin tag", "pod", podName, "container", c.Name, "image", c.Image, "to", to)
		}
	}
	if len(ops) == 0 {
		return resp
	}
	note, err := json.Marshal(pinned)
	if err != nil {
		return resp
	}
	if p.Metadata.Annotations == nil {
		ops = append(ops, patchOp{Op: "add", Path: "/metadata/annotations", Value: map[string]string{AnnotationPinned: string(note)}})
	} else {
		ops = append(ops, patchOp{Op: "add", Path: "/metadata/annotations/" + strings.ReplaceAll(AnnotationPinned, "/", "~1"), Value: string(note)})
	}
	patch, err := json.Marshal(ops)
	if err != nil {
		return resp
	}
	resp.PatchType, resp.Patch = "JSONPatch", patch
	return resp
}

// PinTag is the reference image becomes: its pin tag when it is pinned to
// the digest of an index with something to choose (entries with tailor's
// requirements, or several for one platform); "" when it stays as it is
// (no digest, a plain image manifest, an index with nothing to choose).
func (w *Webhook) PinTag(ctx context.Context, image string) (string, error) {
	return w.pinTag(ctx, image)
}

func (w *Webhook) pinTag(ctx context.Context, image string) (string, error) {
	at := strings.LastIndexByte(image, '@')
	if at < 0 {
		return "", nil
	}
	ref, err := name.NewDigest(image, name.WeakValidation)
	if err != nil {
		return "", fmt.Errorf("reference %q: %w", image, err)
	}
	hex, ok := strings.CutPrefix(ref.DigestStr(), "sha256:")
	if !ok {
		return "", nil
	}
	key := ref.Context().String() + "@" + ref.DigestStr()
	worth, known := w.cached(key)
	if !known {
		worth, err = w.choosable(ctx, key)
		if err != nil {
			return "", err
		}
		w.remember(key, worth)
	}
	if !worth {
		return "", nil
	}
	repo := image[:at]
	if slash := strings.LastIndexByte(repo, '/'); strings.LastIndexByte(repo, ':') > slash {
		repo = repo[:strings.LastIndexByte(repo, ':')] // REPO:TAG@DIGEST: the digest alone counts
	}
	return repo + ":sha256-" + hex + serve.PinTagSuffix, nil
}

// choosable reads the manifest ref names and reports whether it is an
// index a node's tailor can choose in.
func (w *Webhook) choosable(ctx context.Context, ref string) (bool, error) {
	m, err := w.client.Get(ctx, ref)
	if err != nil {
		return false, err
	}
	if !m.IsIndex() {
		return false, nil
	}
	im, err := m.IndexManifest()
	if err != nil {
		return false, err
	}
	platforms := map[string]int{}
	for _, d := range im.Manifests {
		if d.Platform != nil {
			key := d.Platform.OS + "/" + d.Platform.Architecture
			platforms[key]++
			if platforms[key] > 1 {
				return true, nil
			}
		}
		if r, err := requirement.FromDescriptor(d); err == nil && !r.IsGeneric() {
			return true, nil
		}
	}
	return false, nil
}

func (w *Webhook) cached(key string) (worth, ok bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	worth, ok = w.cache[key]
	return worth, ok
}

func (w *Webhook) remember(key string, worth bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.cache) >= maxCache {
		clear(w.cache)
	}
	w.cache[key] = worth
}
