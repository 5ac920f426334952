// Command hello is the tiny program the image builder's test packs.
package main

import "fmt"

func main() { fmt.Println("hello") }
