// Package pin keeps tailoring for pods pinned to an index digest. Policy
// engines and GitOps tools rewrite image:tag to image@sha256:<index>, and
// a pull by digest must return the exact index, so a node's tailor mirror
// cannot choose for it. Webhook is a Kubernetes mutating admission webhook
// that turns each such image into the pin tag of the same digest
// (REPO:sha256-<hex>.tailor, serve.PinTagSuffix): the node's mirror reads
// the index by that digest, checked, and answers with its best entry for
// the node, so the pin holds (only entries of that exact index) and the
// node still gets its build. Images pinned to anything else (a plain image
// manifest, an index with nothing to choose), images it cannot read in
// time and requests it cannot parse pass through unchanged: the webhook is
// registered with failurePolicy Ignore and never blocks a pod.
//
// docs/design.md ("Pinned digests") weighs this against a scheduling gate
// with per-class node affinity and against a scheduler extender.
package pin
