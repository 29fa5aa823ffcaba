package testenv

import (
	"flag"
	"fmt"
	"os"
	"strconv"
)

// RapidDefaults makes checks and steps the default of -rapid.checks and
// -rapid.steps for this test binary, so that a plain `go test` runs the
// sizes CI needs. A flag given on the command line, or RAPID_CHECKS /
// RAPID_STEPS in the environment, wins. Call it from TestMain after
// flag.Parse.
func RapidDefaults(checks, steps int) {
	set := map[string]bool{}
	flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for name, v := range map[string]int{"rapid.checks": checks, "rapid.steps": steps} {
		env := map[string]string{"rapid.checks": "RAPID_CHECKS", "rapid.steps": "RAPID_STEPS"}[name]
		if _, ok := os.LookupEnv(env); ok || set[name] {
			continue
		}
		if err := flag.Set(name, strconv.Itoa(v)); err != nil {
			panic(fmt.Sprintf("testenv: set -%s: %v", name, err))
		}
	}
}
