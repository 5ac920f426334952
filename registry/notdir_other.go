//go:build !unix

package registry

import "errors"

func notDirErr() error { return errors.New("not a directory") }
