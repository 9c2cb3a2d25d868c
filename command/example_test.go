package command_test

import (
	"context"
	"fmt"
	"os"

	"github.com/coworks-go/cws/command"
	"github.com/coworks-go/cws/runtime"
)

// Guestbook is a service with an entry and a command.
type Guestbook struct {
	names []string
}

// SignIn is the body of PostSign.
type SignIn struct {
	Name string `json:"name"`
}

// PostSign signs the guestbook: 201 with the signature's number; a 422
// without a name.
func (g *Guestbook) PostSign(ctx context.Context, in SignIn) (int, error) {
	if in.Name == "" {
		return 0, runtime.Unprocessable("name is required")
	}
	g.names = append(g.names, in.Name)
	runtime.SetStatus(ctx, 201)
	return len(g.names), nil
}

// SignFlags are the flags of the sign command.
type SignFlags struct {
	Times int    `flag:"times" usage:"how many times to sign"`
	As    string `flag:"as" usage:"the name to sign with"`
}

// Commands declares the command sign: `cws do DIR sign --times 2`.
func (g *Guestbook) Commands() map[string]runtime.Command {
	flags := &SignFlags{Times: 1, As: "gopher"}
	return map[string]runtime.Command{
		"sign": {
			Help:  "Sign the guestbook through POST /sign.",
			Flags: flags,
			Run: func(ctx context.Context, env *runtime.CommandEnv) error {
				for range flags.Times {
					var n int
					// As the service itself: the authorizer is not asked.
					if err := env.Client.Call(ctx, "POST", "/sign", SignIn{Name: flags.As}, &n); err != nil {
						return err
					}
					fmt.Fprintf(env.Stdout, "%s signed: signature %d\n", flags.As, n)
				}
				return nil
			},
		},
	}
}

func Example() {
	app, err := runtime.New(&Guestbook{})
	if err != nil {
		panic(err)
	}
	// What `cws do DIR` lists.
	cmds, err := command.List(app)
	if err != nil {
		panic(err)
	}
	for _, c := range cmds {
		fmt.Print(c.Name, ": ", c.Help, "\n", c.FlagUsage())
	}
	// What `cws do DIR sign --times 2 --as ann` runs, in the service's binary.
	if err := command.Run(context.Background(), app, "sign", []string{"--times", "2", "--as", "ann"}, os.Stdin, os.Stdout); err != nil {
		panic(err)
	}
	// The entry refuses an empty name: the command fails with its problem.
	err = command.Run(context.Background(), app, "sign", []string{"--as", ""}, os.Stdin, os.Stdout)
	fmt.Println(err)
	// Output:
	// sign: Sign the guestbook through POST /sign.
	//   --times int   how many times to sign (default 1)
	//   --as string   the name to sign with (default gopher)
	// ann signed: signature 1
	// ann signed: signature 2
	// sign: POST /sign: 422 Unprocessable Entity: name is required
}
