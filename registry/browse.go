package registry

import (
	"context"
	"slices"
)

// Repositories lists, sorted, the repositories that have had a manifest
// (what /v2/_catalog pages through), for in-process readers such as
// tailor serve's web view.
func (reg *Registry) Repositories(ctx context.Context) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return reg.repositories()
}

// Tags lists, sorted, the tags of repository name (what
// /v2/<name>/tags/list pages through); none for an unknown repository.
func (reg *Registry) Tags(ctx context.Context, name string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !validName(name) || !exists(reg.repoDir(name)+"/_manifests") {
		return nil, nil
	}
	tags, err := listDir(reg.repoDir(name) + "/_tags")
	if err != nil {
		return nil, err
	}
	tags = slices.DeleteFunc(tags, func(t string) bool { return !validTag(t) })
	slices.Sort(tags)
	return tags, nil
}
