package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/coworks-go/cws/biz"
)

func newReactorsCmd() *cobra.Command {
	var stage string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "reactors [PKG]",
		Short: "List the reactors of a service and their subscriptions",
		Long: `reactors builds the service in PKG (default: the current directory) and lists
its reactors' subscriptions as the EventBridge rules they become: reactor,
subscription, rule name, the schedule (with its next fire time, UTC) or the
event pattern.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			out, err := runMode(cmd, pkgArg(args), stageOf(stage), "reactors", nil, nil)
			if err != nil {
				return err
			}
			var rules []biz.Rule
			if err := json.Unmarshal(out, &rules); err != nil {
				return fmt.Errorf("reading the reactors of %s: %w", pkgArg(args), err)
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(rules)
			}
			return writeReactorTable(cmd.OutOrStdout(), rules)
		},
	}
	cmd.Flags().StringVar(&stage, "stage", "", "stage (default $CWS_STAGE, else dev)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON instead of a table")
	return cmd
}

// writeReactorTable prints the rules as an aligned table.
func writeReactorTable(w io.Writer, rules []biz.Rule) error {
	if len(rules) == 0 {
		_, err := fmt.Fprintln(w, "no reactors")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "REACTOR\tSUBSCRIPTION\tRULE\tON\n")
	for _, r := range rules {
		on := r.Pattern
		if r.Schedule != "" {
			on = r.Schedule
			if !r.Next.IsZero() {
				on += "  next " + r.Next.UTC().Format(time.RFC3339)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Reactor, r.Subscription, r.Name, on)
	}
	return tw.Flush()
}
