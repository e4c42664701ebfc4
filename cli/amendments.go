package cli

import (
	"fmt"
	"io"
	"net/http"

	"github.com/spf13/cobra"

	"github.com/recordvault/recordvault/sdk"
)

func (e *env) amendmentsCommand() *cobra.Command {
	var received, change, reason string
	var concerns []string
	request := &cobra.Command{
		Use:     "request <client> <record>",
		Short:   "Record a client's request to amend a record (45 CFR 164.526): its 60-day clock starts",
		Example: `  recordvault-cli amendments request <client> <record> --received 2026-12-01 --change "The session was 45 minutes, not 50." --concerns stop_time`,
		Args:    args("client", "record"),
		RunE: func(cmd *cobra.Command, a []string) error {
			day, err := dateFlag("received", received)
			if err != nil {
				return err
			}
			body := sdk.RequestAmendmentJSONRequestBody{RequestedChange: change, Received: day}
			if reason != "" {
				body.Reason = &reason
			}
			if len(concerns) > 0 {
				body.Concerns = &concerns
			}
			return e.do(func(c *sdk.ClientWithResponses) (*http.Response, error) {
				return c.RequestAmendment(cmd.Context(), a[0], a[1], body)
			}, showAmendment)
		},
	}
	request.Flags().StringVar(&received, "received", "", "the day the request was received, YYYY-MM-DD (required)")
	request.Flags().StringVar(&change, "change", "", "the change asked for (required)")
	request.Flags().StringVar(&reason, "reason", "", "why, in the client's words")
	request.Flags().StringSliceVar(&concerns, "concerns", nil, "the record's fields it concerns; none: the whole record")
	requireFlags(request, "received", "change")

	var extendReason string
	extend := &cobra.Command{
		Use:     "extend <client> <record> <amendment>",
		Short:   "Extend a request's clock once, by 30 days, with the reason the client is told",
		Example: `  recordvault-cli amendments extend <client> <record> <amendment> --reason "the author is on leave until the 20th"`,
		Args:    args("client", "record", "amendment"),
		RunE: func(cmd *cobra.Command, a []string) error {
			body := sdk.ExtendAmendmentJSONRequestBody{Reason: extendReason}
			return e.do(func(c *sdk.ClientWithResponses) (*http.Response, error) {
				return c.ExtendAmendment(cmd.Context(), a[0], a[1], a[2], body)
			}, showAmendment)
		},
	}
	extend.Flags().StringVar(&extendReason, "reason", "", "why it takes longer (required)")
	requireFlags(extend, "reason")

	var accept, deny, explanation string
	decide := &cobra.Command{
		Use:   "decide <client> <record> <amendment>",
		Short: "Accept a request with the amending text, or deny it on one of the four grounds",
		Example: `  recordvault-cli amendments decide <client> <record> <amendment> --accept "Session length corrected to 45 minutes."
  recordvault-cli amendments decide <client> <record> <amendment> --deny accurate_and_complete --explanation "The session log shows 50 minutes."`,
		Args: args("client", "record", "amendment"),
		RunE: func(cmd *cobra.Command, a []string) error {
			var body sdk.DecideAmendmentJSONRequestBody
			switch {
			case (accept == "") == (deny == ""):
				return usagef("give one of --accept and --deny")
			case accept != "":
				body.Outcome, body.Amendment = sdk.DecideAmendmentJSONBodyOutcomeAccepted, &accept
			default:
				g := sdk.DecideAmendmentJSONBodyGround(deny)
				body.Outcome, body.Ground, body.Explanation = sdk.DecideAmendmentJSONBodyOutcomeDenied, &g, &explanation
			}
			return e.do(func(c *sdk.ClientWithResponses) (*http.Response, error) {
				return c.DecideAmendment(cmd.Context(), a[0], a[1], a[2], body)
			}, showAmendment)
		},
	}
	decide.Flags().StringVar(&accept, "accept", "", "accept it, with the amending text that travels with the record")
	decide.Flags().StringVar(&deny, "deny", "", "deny it on a ground: accurate_and_complete, not_created_here, not_in_record_set, not_open_to_inspection")
	decide.Flags().StringVar(&explanation, "explanation", "", "with --deny: the explanation the client receives")

	var statement string
	disagree := &cobra.Command{
		Use:     "disagree <client> <record> <amendment>",
		Short:   "Record the client's statement of disagreement with a denial",
		Example: `  recordvault-cli amendments disagree <client> <record> <amendment> --statement "I left early; the note is wrong."`,
		Args:    args("client", "record", "amendment"),
		RunE: func(cmd *cobra.Command, a []string) error {
			body := sdk.RecordDisagreementJSONRequestBody{Statement: statement}
			return e.do(func(c *sdk.ClientWithResponses) (*http.Response, error) {
				return c.RecordDisagreement(cmd.Context(), a[0], a[1], a[2], body)
			}, showAmendment)
		},
	}
	disagree.Flags().StringVar(&statement, "statement", "", "the client's statement (required)")
	requireFlags(disagree, "statement")

	var rebuttal string
	rebut := &cobra.Command{
		Use:     "rebut <client> <record> <amendment>",
		Short:   "Record the clinic's rebuttal of a statement of disagreement",
		Example: `  recordvault-cli amendments rebut <client> <record> <amendment> --text "The session log shows 50 minutes."`,
		Args:    args("client", "record", "amendment"),
		RunE: func(cmd *cobra.Command, a []string) error {
			body := sdk.RebutDisagreementJSONRequestBody{Text: rebuttal}
			return e.do(func(c *sdk.ClientWithResponses) (*http.Response, error) {
				return c.RebutDisagreement(cmd.Context(), a[0], a[1], a[2], body)
			}, showAmendment)
		},
	}
	rebut.Flags().StringVar(&rebuttal, "text", "", "the rebuttal (required)")
	requireFlags(rebut, "text")

	overdue := &cobra.Command{
		Use:     "overdue",
		Short:   "List the clinic's amendment requests past their due date, undecided (clinic admins)",
		Example: `  recordvault-cli amendments overdue`,
		Args:    args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return e.do(func(c *sdk.ClientWithResponses) (*http.Response, error) { return c.OverdueAmendments(cmd.Context()) }, showEach(showAmendment))
		},
	}
	return group("amendments", "Amendment requests (45 CFR 164.526): request, extend, decide, disagree, rebut", request, extend, decide, disagree, rebut, overdue)
}

// showAmendment prints an amendment request: its id alone on the first line, then its state
// and clock.
func showAmendment(w io.Writer, v map[string]any) error {
	_, err := fmt.Fprintf(w, "%s\n  %s, due %s\n", str(v, "id"), str(v, "status"), str(v, "due"))
	return err
}
