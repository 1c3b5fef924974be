package cli

import "github.com/spf13/cobra"

// Roots returns the command trees of coffer and cofferd without running
// anything, for what is generated from them: the man pages that
// packaging/mangen writes for the installers.
func Roots(env Env) (coffer, cofferd *cobra.Command) {
	return newRoot(env), newCofferdRoot(env)
}
