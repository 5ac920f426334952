// Package mirrorconfig provides the client configuration that points
// container clients' pulls at a `tailor serve` mirror: containerd
// hosts.toml files, docker's daemon.json registry-mirrors, and the
// registries.conf of podman, skopeo and buildah.
package mirrorconfig

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/tailor-dev/tailor/profile"
)

// Clients whose configuration Render writes.
var Clients = []string{"containerd", "docker", "podman", "skopeo"}

// Options say where the mirror is and which registries it mirrors.
type Options struct {
	// Server is the mirror's base URL (http://127.0.0.1:5000).
	Server string
	// Registries are the registries mirrored (docker.io, ghcr.io); each
	// must be an upstream of the server, by that name. An entry NAME=URL
	// (as serve's --upstream) gives the upstream's URL too; without one it
	// is https://NAME (Docker Hub's for docker.io).
	Registries []string
	// Profile, when set, selects a profile by path prefix
	// (/v2/_p/<profile>/); containerd only (override_path).
	Profile string
}

// Render writes the configuration of client.
func Render(client string, o Options) (string, error) {
	u, err := url.Parse(o.Server)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", fmt.Errorf("mirror server %q: want http(s)://host[:port]", o.Server)
	}
	if len(o.Registries) == 0 {
		return "", fmt.Errorf("no registry to mirror (docker.io, ghcr.io, ...)")
	}
	if o.Profile != "" && client != "containerd" {
		return "", fmt.Errorf("--profile by path prefix works with containerd only; give %s a server started with that --profile", client)
	}
	if err := checkProfile(o.Profile); err != nil {
		return "", err
	}
	switch client {
	case "containerd":
		return containerd(o)
	case "docker":
		return docker(u, o)
	case "podman", "skopeo", "buildah":
		return registriesConf(u, o)
	}
	return "", fmt.Errorf("unknown client %q (want %s)", client, strings.Join(Clients, ", "))
}

// upstreamURL splits a Registries entry into the registry's name and the
// real registry behind it.
func upstreamURL(entry string) (reg, upstream string) {
	if name, u, ok := strings.Cut(entry, "="); ok {
		return name, u
	}
	if entry == "docker.io" || entry == "index.docker.io" {
		return entry, "https://registry-1.docker.io"
	}
	return entry, "https://" + entry
}

// ContainerdHosts returns the hosts.toml of each registry of o (by
// registry name): pulls go to the mirror, and to the upstream (the
// server line) when the mirror fails or is down. header, when not empty,
// starts each file as a comment.
func ContainerdHosts(o Options, header string) (map[string]string, error) {
	u, err := url.Parse(o.Server)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("mirror server %q: want http(s)://host[:port]", o.Server)
	}
	host := strings.TrimSuffix(u.String(), "/")
	override := ""
	if o.Profile != "" {
		host += "/v2/_p/" + url.PathEscape(o.Profile)
		override = "  override_path = true\n"
	}
	out := map[string]string{}
	for _, entry := range o.Registries {
		reg, upstream, err := checkEntry(entry)
		if err != nil {
			return nil, err
		}
		var b strings.Builder
		if header != "" {
			b.WriteString("# " + strings.ReplaceAll(header, "\n", " ") + "\n")
		}
		fmt.Fprintf(&b, "server = %s\n\n[host.%s]\n  capabilities = [\"pull\", \"resolve\"]\n%s", tomlString(upstream), tomlString(host), override)
		out[reg] = b.String()
	}
	return out, nil
}

func containerd(o Options) (string, error) {
	var b strings.Builder
	files, err := ContainerdHosts(o, "")
	if err != nil {
		return "", err
	}
	for i, entry := range o.Registries {
		reg, _ := upstreamURL(entry)
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "# /etc/containerd/certs.d/%s/hosts.toml\n%s", reg, files[reg])
	}
	b.WriteString("\n# containerd's CRI plugin reads these with config_path = \"/etc/containerd/certs.d\";\n# ctr needs --hosts-dir /etc/containerd/certs.d.\n")
	return b.String(), nil
}

func docker(u *url.URL, o Options) (string, error) {
	for _, entry := range o.Registries {
		if reg, _ := upstreamURL(entry); reg != "docker.io" && reg != "index.docker.io" {
			return "", fmt.Errorf("docker mirrors Docker Hub only, not %s: use containerd or podman for other registries", reg)
		}
	}
	cfg := map[string][]string{"registry-mirrors": {strings.TrimSuffix(u.String(), "/")}}
	if u.Scheme == "http" {
		cfg["insecure-registries"] = []string{u.Host}
	}
	out, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return "", err
	}
	return "# merge into /etc/docker/daemon.json; the server's first --upstream must be docker.io\n" + string(out) + "\n", nil
}

func registriesConf(u *url.URL, o Options) (string, error) {
	var b strings.Builder
	b.WriteString("# /etc/containers/registries.conf (or ~/.config/containers/registries.conf)\n")
	b.WriteString("# The first registry is the server's default: its first --upstream, or what a server\n# without upstreams holds itself; the others are picked by a path prefix.\n")
	base := u.Host + strings.TrimSuffix(u.Path, "/")
	for i, entry := range o.Registries {
		reg, _, err := checkEntry(entry)
		if err != nil {
			return "", err
		}
		loc := base
		if i > 0 {
			loc += "/" + PathElement(reg)
		}
		fmt.Fprintf(&b, "\n[[registry]]\nprefix = %s\nlocation = %s\n\n[[registry.mirror]]\nlocation = %s\n",
			tomlString(reg), tomlString(reg), tomlString(loc))
		if u.Scheme == "http" {
			b.WriteString("insecure = true\n")
		}
	}
	return b.String(), nil
}

// PathElement is how a registry is named as the first path element of a
// repository at the server (podman's and skopeo's mirror locations, which
// are image references): its name, with a port's ':' written '_'
// (reg.local:5443 is reg.local_5443), since a repository path holds no ':'.
// tailor serve reads it back.
func PathElement(registry string) string {
	return strings.Replace(registry, ":", "_", 1)
}

// checkProfile refuses a profile spec that does not parse, before it is
// written into a client's configuration where a typo would fail silently
// (containerd falls back to the upstream). A bare name is a profile of the
// server's config, which only the server knows.
func checkProfile(p string) error {
	if p == "" || !strings.Contains(p, "=") {
		if strings.ContainsAny(p, "/?#% ") {
			return fmt.Errorf("--profile %q: want a profile name of the server's config or a spec (cpu=zen3)", p)
		}
		return nil
	}
	if _, err := profile.ParseSpec(p); err != nil {
		return fmt.Errorf("--profile %q: %w", p, err)
	}
	return nil
}
