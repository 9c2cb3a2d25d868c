// Command biz is the cws example of the business level: an office service
// whose tech entries keep reminders, alerts, invoices and an outbox, and
// whose biz level composes them:
//
//   - reminder, a code reactor: every weekday at 09:00 UTC (or on
//     $REMINDER_SCHEDULE), posts a reminder — one call on a schedule, where
//     code is the better fit;
//   - invoicing, a workflow (workflows/invoicing.asl.yaml, Amazon States
//     Language): an order.completed event creates the invoice, renders its
//     document, raises an alert for a large order, mails the invoice (retried
//     while the mail service answers 5xx; an alert when it cannot be mailed)
//     and publishes invoice.sent — steps, branches and error handling a
//     non-programmer can read, draw (cws workflows graph) and edit.
//
// It runs under `cws run ./examples/biz` with no AWS (the CloudEvents doors
// run in memory until CWS_QUEUE_URL names an SQS queue):
//
//	cws events put --token dev-token --type order.completed --source shop --data '{"order":"A-1","customer":"ann@example.com","total":1200}'
//	curl -H 'Authorization: dev-token' localhost:8080/invoices
//	curl -H 'Authorization: dev-token' localhost:8080/alerts
//	curl -H 'Authorization: dev-token' localhost:8080/_cws/executions
package main

//go:generate go run github.com/coworks-go/cws/cmd/cws gen

import (
	"fmt"
	"os"

	"github.com/coworks-go/cws"
	"github.com/coworks-go/cws/async/awscloud"
	"github.com/coworks-go/cws/blueprint/admin"
	"github.com/coworks-go/cws/blueprint/profiler"
	"github.com/coworks-go/cws/runtime"
)

// main gives the service its CloudEvents doors, with AWS (awscloud): the
// reactors and the invocations run on the local queue and bus under cws
// run, on an SQS queue with CWS_QUEUE_URL, and on Lambda with their
// notifications on CWS_EVENT_BUS.
func main() {
	opts, _, err := Services()
	if err != nil {
		fmt.Fprintln(os.Stderr, "office:", err)
		os.Exit(1)
	}
	// The developers' blueprints: served in stage dev (cws run), and in a
	// deployed stage only where CWS_DEV_ENDPOINTS lists them.
	opts = append(opts, runtime.WithBlueprint("/admin", admin.New()), runtime.WithBlueprint("/profiler", profiler.New()))
	cws.Main(NewOffice(), append(opts, awscloud.Doors())...)
}
