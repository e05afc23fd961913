package cli

// registered returns every subcommand. Each command lives in its own file
// (cmd_<name>.go) and exposes a constructor returning its Command.
func registered() []Command {
	return []Command{compareCommand(), embedCommand(), evalCommand(), maskCommand(), trainCommand(), verifyCommand()}
}
