package serve

import "fmt"

// notAProfile is the answer to a login whose user name is not a profile
// on a server with no htpasswd file: there are no users to hide, so it
// says what the name should have been.
func notAProfile(user string) string {
	if len(user) > 64 {
		user = user[:64] + "..."
	}
	return fmt.Sprintf("login refused: user name %q is not a profile; this server has no users (no --htpasswd): log in with a profile as user name (cpu=zen3, cpu=x86_64_v3,gpu=8.0) or none for the untailored view, any password", user)
}
