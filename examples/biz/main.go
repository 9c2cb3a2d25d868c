// Command biz is the cws example of biz reactors: an office service whose
// tech entries keep reminders, alerts, invoices and an outbox, and whose
// reactors compose them into workflows:
//
//   - reminder: every weekday at 09:00 UTC (or on $REMINDER_SCHEDULE),
//     posts a reminder (a cron reactor calling a tech entry);
//   - alert: an order.completed event of 1,000 or more raises an alert (a
//     notification pattern calling a tech entry);
//   - invoicing: an order.completed event creates the invoice, renders its
//     document, mails it, and publishes invoice.sent.
//
// It runs under `cws run ./examples/biz` with no AWS (the CloudEvents doors
// run in memory until CWS_QUEUE_URL names an SQS queue):
//
//	cws events put --token dev-token --type order.completed --source shop --data '{"order":"A-1","customer":"ann@example.com","total":1200}'
//	curl -H 'Authorization: dev-token' localhost:8080/invoices
//	curl -H 'Authorization: dev-token' localhost:8080/alerts
package main

//go:generate go run github.com/coworks-go/cws/cmd/cws gen

import (
	"github.com/coworks-go/cws"
	"github.com/coworks-go/cws/async/awscloud"
)

// main gives the service its CloudEvents doors, with AWS (awscloud): the
// reactors and the invocations run on the local queue and bus under cws
// run, on an SQS queue with CWS_QUEUE_URL, and on Lambda with their
// notifications on CWS_EVENT_BUS.
func main() {
	cws.Main(NewOffice(), awscloud.Doors())
}
