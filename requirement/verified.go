package requirement

import (
	"fmt"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Annotations `tailor verify --record` writes on an index entry: what its
// code was found to really need, beside what its publisher declared (the
// declaration stays as it was). Hosts must satisfy both.
const (
	// AnnotationVerified is the verdict: ok or mislabeled.
	AnnotationVerified = "dev.tailor.verified"
	// AnnotationVerifiedNeeds is what the code really needs, in short form
	// (cpu=x86_64_v3,features=avx512f); absent when nothing beyond the
	// architecture was found, or, on a mislabeled entry, when what it
	// needs is unknown (it died with SIGILL under its declared CPU and no
	// evidence said why): such an entry fits no host.
	AnnotationVerifiedNeeds = "dev.tailor.verified.needs"
)

// AnnotationSourceIndex marks an index that a tailoring server made for
// one client (its value is the digest of the index it was cut from): it
// holds, per architecture, only the entry that client gets. Publishing or
// recording it would drop every other entry, so tailor refuses to.
const AnnotationSourceIndex = "dev.tailor.source.index"

// AnnotationSelectedTarget marks the entry of a tailored answer with the
// CPU target of the entry it was cut from ("generic" for none). The
// answer's platform is plain os/arch, so for a source entry whose target
// was only its platform variant (amd64/v4) this mark is where the target
// lives: FromAnnotations reads it when no dev.tailor.cpu.target is given,
// so a copy of an answer made before answers carried their needs still
// matches only hosts that run it.
const AnnotationSelectedTarget = "dev.tailor.selected.target"

// Verdicts recorded in AnnotationVerified.
const (
	VerdictOK         = "ok"
	VerdictMislabeled = "mislabeled"
)

// isVerifiedKey reports whether k is one of the annotations verify records.
func isVerifiedKey(k string) bool {
	return k == AnnotationVerified || strings.HasPrefix(k, AnnotationVerified+".")
}

// Verification is what verify recorded on an entry.
type Verification struct {
	// Verdict is VerdictOK or VerdictMislabeled.
	Verdict string `json:"verdict"`
	// Needs is what the code really needs; the zero value when nothing
	// beyond the architecture.
	Needs Requirements `json:"needs"`
	// Known is false for a mislabeled entry whose needs are unknown.
	Known bool `json:"known"`
}

// Verified reads what verify recorded on d; ok is false when nothing was.
// A malformed record is an ErrMalformed naming the entry.
func Verified(d v1.Descriptor) (Verification, bool, error) {
	verdict, ok := d.Annotations[AnnotationVerified]
	needs, hasNeeds := d.Annotations[AnnotationVerifiedNeeds]
	if !ok && !hasNeeds {
		return Verification{}, false, nil
	}
	wrap := func(err error) error { return fmt.Errorf("index entry %s: %w", shortDigest(d), err) }
	if verdict != VerdictOK && verdict != VerdictMislabeled {
		return Verification{}, false, wrap(fmt.Errorf("%w: annotation %s=%q: want %s or %s", ErrMalformed, AnnotationVerified, verdict, VerdictOK, VerdictMislabeled))
	}
	v := Verification{Verdict: verdict, Known: hasNeeds || verdict == VerdictOK}
	if hasNeeds {
		r, err := ParseShort(needs)
		if err != nil {
			return Verification{}, false, wrap(fmt.Errorf("annotation %s: %w", AnnotationVerifiedNeeds, err))
		}
		r.Source = SourceAnnotations
		if err := checkArchitecture(r, d.Platform); err != nil {
			return Verification{}, false, wrap(err)
		}
		v.Needs = r
	}
	return v, true, nil
}

// Annotations encodes v as the annotations verify records.
func (v Verification) Annotations() map[string]string {
	a := map[string]string{AnnotationVerified: v.Verdict}
	if v.Known && !v.Needs.IsGeneric() {
		a[AnnotationVerifiedNeeds] = v.Needs.String()
	}
	return a
}
