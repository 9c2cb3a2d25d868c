package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/coworks-go/cws/runtime"
)

// InvoiceFlags are the flags of the invoice command.
type InvoiceFlags struct {
	Order    string  `flag:"order" usage:"the order's reference"`
	Customer string  `flag:"customer" usage:"the customer's address"`
	Total    float64 `flag:"total" usage:"the order's total"`
	Format   string  `flag:"format" usage:"the document's format: html or txt"`
}

// Commands are the office's commands, run by `cws do ./examples/biz NAME`:
//
//	cws do ./examples/biz invoice --order A-1 --total 1200 > invoice.html
//
// invoice renders the invoice of an order as the invoicing workflow does —
// POST /invoices, then the Templates service's POST
// /templates/render/invoice.html — and writes the document to standard
// output: a preview while editing the templates, with no event, queue or
// mail involved.
func (o *Office) Commands() map[string]runtime.Command {
	inv := &InvoiceFlags{Customer: "ann@example.com", Format: "html"}
	return map[string]runtime.Command{
		"invoice": {
			Help:  "Render the invoice of an order, as the invoicing workflow does, to standard output.",
			Flags: inv,
			Run: func(ctx context.Context, env *runtime.CommandEnv) error {
				if inv.Order == "" {
					return errors.New("--order is required")
				}
				if inv.Format != "html" && inv.Format != "txt" {
					return fmt.Errorf("--format %q: html or txt", inv.Format)
				}
				var invoice Invoice
				if err := env.Client.Call(ctx, "POST", "/invoices", InvoiceInput{Order: inv.Order, Customer: inv.Customer, Total: inv.Total}, &invoice); err != nil {
					return err
				}
				var document string
				if err := env.Client.Call(ctx, "POST", "/templates/render/invoice."+inv.Format, invoice, &document); err != nil {
					return err
				}
				_, err := fmt.Fprint(env.Stdout, document)
				return err
			},
		},
	}
}
