// Command odoo runs cws's Odoo service standalone: an Odoo's records and
// reports as entries (see package odoo), configured by ODOO_URL, ODOO_DB,
// ODOO_USER, ODOO_API_KEY and ODOO_PASSWORD.
package main

//go:generate go run github.com/coworks-go/cws/cmd/cws gen

import (
	"fmt"
	"os"

	"github.com/coworks-go/cws"
	"github.com/coworks-go/cws/services/odoo"
)

func main() {
	var svc *odoo.Service
	svc, err := odoo.FromEnv()
	if err != nil {
		fmt.Fprintln(os.Stderr, "odoo:", err)
		os.Exit(1)
	}
	cws.Main(svc)
}
