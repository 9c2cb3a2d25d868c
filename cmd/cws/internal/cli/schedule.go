package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/coworks-go/cws/events/pattern"
	"github.com/coworks-go/cws/events/schedule"
)

func newTestPatternCmd() *cobra.Command {
	var pat, ev string
	cmd := &cobra.Command{
		Use:   "test-pattern --pattern JSON|@FILE --event JSON|@FILE|-",
		Short: "Tell whether an EventBridge event pattern matches an event",
		Long: `test-pattern prints true when the event pattern matches the event and false
when it does not, as aws events test-event-pattern does, with EventBridge's
whole pattern language. An invalid pattern prints AWS's reason and exits 2.`,
		Example: `  cws events test-pattern --pattern '{"source":["shop"],"detail":{"total":[{"numeric":[">",100]}]}}' \\
    --event '{"source":"shop","detail-type":"order.completed","detail":{"total":250}}'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if pat == "" || ev == "" {
				return usageError(cmd, errors.New("--pattern and --event are required"))
			}
			p, err := readValue(pat, cmd.InOrStdin())
			if err != nil {
				return exitError{code: 2, msg: err.Error()}
			}
			e, err := readValue(ev, cmd.InOrStdin())
			if err != nil {
				return exitError{code: 2, msg: err.Error()}
			}
			compiled, err := pattern.Compile(p)
			if err != nil {
				return exitError{code: 2, msg: err.Error()}
			}
			if !json.Valid(e) {
				return exitError{code: 2, msg: "Parameter Event is not valid: the event is not JSON"}
			}
			ok, err := compiled.Match(e)
			if err != nil {
				return exitError{code: 2, msg: "Parameter Event is not valid: " + err.Error()}
			}
			fmt.Fprintln(cmd.OutOrStdout(), ok)
			return nil
		},
	}
	cmd.Flags().StringVar(&pat, "pattern", "", "the event pattern: JSON, @FILE, or - for standard input")
	cmd.Flags().StringVar(&ev, "event", "", "the event: JSON, @FILE, or - for standard input")
	return cmd
}

func newScheduleCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "schedule",
		Short: "Work with EventBridge schedule expressions (rate, cron)",
	}
	var from string
	var n int
	next := &cobra.Command{
		Use:   "next EXPR [--from RFC3339] [-n N]",
		Short: "Print the next fire times of a schedule expression",
		Long: `next prints the next N fire times of a rate or cron expression, in RFC 3339
UTC, one per line, after --from (default now). A rate counts from --from, as
a rule's rate counts from its creation. An invalid expression prints the
reason and exits 2.`,
		Example: `  cws schedule next 'cron(0 9 ? * MON-FRI *)' -n 5
  cws schedule next 'rate(15 minutes)' --from 2026-11-23T08:00:00Z`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := schedule.Parse(strings.TrimSpace(args[0]))
			if err != nil {
				return exitError{code: 2, msg: err.Error()}
			}
			if n < 1 {
				return usageError(cmd, fmt.Errorf("-n %d: give at least 1", n))
			}
			t := time.Now().UTC()
			if from != "" {
				if t, err = time.Parse(time.RFC3339, from); err != nil {
					return usageError(cmd, fmt.Errorf("--from %q is not an RFC 3339 time", from))
				}
			}
			for range n {
				if t = s.Next(t); t.IsZero() {
					break
				}
				fmt.Fprintln(cmd.OutOrStdout(), t.Format(time.RFC3339))
			}
			return nil
		},
	}
	next.Flags().StringVar(&from, "from", "", "the time to start from, RFC 3339 (default now)")
	next.Flags().IntVarP(&n, "n", "n", 5, "how many fire times")
	cmd.AddCommand(next)
	return cmd
}
