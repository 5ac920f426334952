// Command hello prints the target it was built for; the e2e test builds
// one per variant with -ldflags "-X main.target=NAME".
package main

import "fmt"

var target = "unset"

func main() { fmt.Println("tailor-variant: " + target) }
