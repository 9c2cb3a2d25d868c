package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/coworks-go/cws/services/templates"
)

func newTemplatesCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "templates",
		Short: "Render Jinja templates as the Templates service does",
	}
	var dir, context string
	var autoescape, noAutoescape bool
	render := &cobra.Command{
		Use:   "render NAME --dir DIR [--context JSON|@FILE|-] [--autoescape]",
		Short: "Render a template and print exactly what it renders",
		Long: `render renders the template NAME of the directory DIR (default: the current
directory, or $TEMPLATES_DIR) with the context given (a JSON object, default
{}), as the Templates service renders it (Jinja2's language, gonja v2 with
cws's filters), and prints exactly the rendered text: no newline is added.
Names ending in .html, .htm or .xml are autoescaped; --autoescape and
--no-autoescape decide otherwise. A syntax error prints the template, the
line and the message on stderr and exits 2; a missing template exits 1.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			data := map[string]any{}
			if context != "" {
				raw, err := readValue(context, cmd.InOrStdin())
				if err != nil {
					return err
				}
				if err := json.Unmarshal(raw, &data); err != nil {
					return exitError{code: 2, msg: fmt.Sprintf("the context is not a JSON object: %v", err)}
				}
			}
			if dir == "" {
				dir = envOr(templates.EnvDir, ".")
			}
			var opts []templates.Option
			switch {
			case autoescape:
				opts = append(opts, templates.WithAutoescape(func(string) bool { return true }))
			case noAutoescape:
				opts = append(opts, templates.WithAutoescape(func(string) bool { return false }))
			}
			out, err := templates.New(templates.Dir(dir), opts...).Render(cmd.Context(), args[0], data)
			var se *templates.SyntaxError
			if errors.As(err, &se) {
				return exitError{code: 2, msg: se.Error()}
			}
			if err != nil {
				return err
			}
			_, err = io.WriteString(cmd.OutOrStdout(), out)
			return err
		},
	}
	render.Flags().StringVar(&dir, "dir", "", "the templates' directory (default $TEMPLATES_DIR, else .)")
	render.Flags().StringVar(&context, "context", "", "the context: a JSON object, @FILE, or - for stdin")
	render.Flags().BoolVar(&autoescape, "autoescape", false, "escape HTML whatever the name")
	render.Flags().BoolVar(&noAutoescape, "no-autoescape", false, "escape nothing whatever the name")
	cmd.AddCommand(render)
	return cmd
}

// envOr is the value of an environment variable, or def.
func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
