package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"

	"github.com/spf13/cobra"

	"github.com/recordvault/recordvault/sdk"
)

// readJSON decodes the JSON file at path ("-": standard input) into v, strictly: an unknown
// field is a mistake in the file, said before anything is sent.
func (e *env) readJSON(path string, v any) error {
	var r io.Reader = e.stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return usagef("--file: %v", err)
		}
		defer f.Close()
		r = f
	}
	dec := json.NewDecoder(io.LimitReader(r, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return usagef("--file: %v", err)
	}
	return nil
}

func (e *env) courtOrdersCommand() *cobra.Command {
	var file string
	record := &cobra.Command{
		Use:   "record <client>",
		Short: "Record a court order for a client's records and release what it reaches (clinic admins)",
		Long: `record takes the order as a JSON file (court, issued, from, to, categories, documents,
fields, recipient, purpose: docs/openapi.yaml's OrderInput) and answers with the releases it
made, what it withheld and why, and the signed manifest.`,
		Example: `  recordvault-cli court-orders record <client> --file order.json`,
		Args:    args("client"),
		RunE: func(cmd *cobra.Command, a []string) error {
			var order sdk.CreateCourtOrderJSONRequestBody
			if err := e.readJSON(file, &order); err != nil {
				return err
			}
			return e.do(func(c *sdk.ClientWithResponses) (*http.Response, error) {
				return c.CreateCourtOrder(cmd.Context(), a[0], order)
			}, showOrder)
		},
	}
	record.Flags().StringVar(&file, "file", "", "the order, JSON; - for standard input (required)")
	requireFlags(record, "file")
	show := &cobra.Command{
		Use:     "show <client> <order>",
		Short:   "Show a court order: its releases, what it withheld, its signed manifest",
		Example: `  recordvault-cli court-orders show <client> <order> --json`,
		Args:    args("client", "order"),
		RunE: func(cmd *cobra.Command, a []string) error {
			return e.do(func(c *sdk.ClientWithResponses) (*http.Response, error) {
				return c.GetCourtOrder(cmd.Context(), a[0], a[1])
			}, showOrder)
		},
	}
	var manifest, signature string
	verify := &cobra.Command{
		Use:     "verify",
		Short:   "Check a release manifest's signature, as the court or an attorney would",
		Example: `  recordvault-cli court-orders verify --manifest manifest.json --signature vault:v1:MEUCIQ…`,
		Args:    args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			raw, err := os.ReadFile(manifest)
			if err != nil {
				return usagef("--manifest: %v", err)
			}
			body := sdk.VerifyManifestJSONRequestBody{Manifest: string(raw), Signature: signature}
			return e.do(func(c *sdk.ClientWithResponses) (*http.Response, error) { return c.VerifyManifest(cmd.Context(), body) },
				func(w io.Writer, v map[string]any) error {
					if v["valid"] != true {
						return fmt.Errorf("the signature does not match the manifest")
					}
					_, err := fmt.Fprintln(w, "valid: the clinic signed this manifest")
					return err
				})
		},
	}
	verify.Flags().StringVar(&manifest, "manifest", "", "the manifest, as a file, byte for byte (required)")
	verify.Flags().StringVar(&signature, "signature", "", "its signature (required)")
	requireFlags(verify, "manifest", "signature")
	return group("court-orders", "Record court orders and check their signed manifests", record, show, verify)
}

// showOrder prints a court order: its id, then what it released and withheld.
func showOrder(w io.Writer, v map[string]any) error {
	fmt.Fprintln(w, str(v, "id"))
	releases, _ := v["releases"].([]any)
	for _, r := range releases {
		fmt.Fprintf(w, "  released %v\n", r)
	}
	for _, list := range []string{"withheld", "refused"} {
		entries, _ := v[list].([]any)
		for _, it := range entries {
			m, _ := it.(map[string]any)
			reason, _ := m["reason"].(map[string]any)
			fmt.Fprintf(w, "  %s %s: %s\n", list, str(m, "document"), str(reason, "text"))
		}
	}
	return nil
}

func (e *env) accessRequestsCommand() *cobra.Command {
	var received, description, kind, for_, name, format string
	add := &cobra.Command{
		Use:   "add <client>",
		Short: "Record a request for access to a client's records (45 CFR 164.524): its clock starts",
		Example: `  recordvault-cli access-requests add <client> --received 2026-12-01 --description "all progress notes of 2026" --by client
  recordvault-cli access-requests add <client> --received 2026-12-01 --description "the evaluation" --by personal_representative --by-name "A. Parent" --for <client>`,
		Args: args("client"),
		RunE: func(cmd *cobra.Command, a []string) error {
			day, err := dateFlag("received", received)
			if err != nil {
				return err
			}
			in := sdk.CreateAccessRequestJSONRequestBody{Description: description, Received: day}
			in.RequestedBy.Kind = sdk.AccessRequestInputRequestedByKind(kind)
			for field, v := range map[**string]string{&in.RequestedBy.For: for_, &in.RequestedBy.Name: name, &in.Format: format} {
				if v != "" {
					*field = &v
				}
			}
			return e.do(func(c *sdk.ClientWithResponses) (*http.Response, error) {
				return c.CreateAccessRequest(cmd.Context(), a[0], in)
			}, showRequest)
		},
	}
	f := add.Flags()
	f.StringVar(&received, "received", "", "the day the request was received, YYYY-MM-DD (required)")
	f.StringVar(&description, "description", "", "what is asked for (required)")
	f.StringVar(&kind, "by", "", "who asks: client or personal_representative (required)")
	f.StringVar(&name, "by-name", "", "the name of who asks")
	f.StringVar(&for_, "for", "", "the client a personal representative acts for")
	f.StringVar(&format, "format", "", "the form asked for (paper, electronic, …)")
	requireFlags(add, "received", "description", "by")

	list := &cobra.Command{
		Use:     "list <client>",
		Short:   "List a client's access requests and their clocks",
		Example: `  recordvault-cli access-requests list <client>`,
		Args:    args("client"),
		RunE: func(cmd *cobra.Command, a []string) error {
			return e.do(func(c *sdk.ClientWithResponses) (*http.Response, error) {
				return c.ListAccessRequests(cmd.Context(), a[0])
			}, showEach(showRequest))
		},
	}
	overdue := &cobra.Command{
		Use:     "overdue",
		Short:   "List the clinic's access requests past their due date, unanswered (clinic admins)",
		Example: `  recordvault-cli access-requests overdue`,
		Args:    args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return e.do(func(c *sdk.ClientWithResponses) (*http.Response, error) {
				return c.OverdueAccessRequests(cmd.Context())
			}, showEach(showRequest))
		},
	}
	var reason string
	extend := &cobra.Command{
		Use:     "extend <client> <request>",
		Short:   "Extend a request's clock once, by 30 days, with the reason the client is told",
		Example: `  recordvault-cli access-requests extend <client> <request> --reason "records held off site"`,
		Args:    args("client", "request"),
		RunE: func(cmd *cobra.Command, a []string) error {
			body := sdk.ExtendAccessRequestJSONRequestBody{Reason: reason}
			return e.do(func(c *sdk.ClientWithResponses) (*http.Response, error) {
				return c.ExtendAccessRequest(cmd.Context(), a[0], a[1], body)
			}, showRequest)
		},
	}
	extend.Flags().StringVar(&reason, "reason", "", "why it takes longer (required)")
	requireFlags(extend, "reason")
	var releases []string
	answer := &cobra.Command{
		Use:     "answer <client> <request>",
		Short:   "Answer a request with the releases made for it; its clock stops",
		Example: `  recordvault-cli access-requests answer <client> <request> --releases <release>,<release>`,
		Args:    args("client", "request"),
		RunE: func(cmd *cobra.Command, a []string) error {
			body := sdk.AnswerAccessRequestJSONRequestBody{Releases: releases}
			return e.do(func(c *sdk.ClientWithResponses) (*http.Response, error) {
				return c.AnswerAccessRequest(cmd.Context(), a[0], a[1], body)
			}, showRequest)
		},
	}
	answer.Flags().StringSliceVar(&releases, "releases", nil, "the releases that answer it, comma-separated (required)")
	requireFlags(answer, "releases")
	return group("access-requests", "Record access requests and keep their clocks (45 CFR 164.524)", add, list, overdue, extend, answer)
}

// showRequest prints an access request: its id, then its clock.
func showRequest(w io.Writer, v map[string]any) error {
	req, _ := v["request"].(map[string]any)
	fmt.Fprintf(w, "%s\n  %s, received %s, due %s (%s)", str(v, "id"), str(v, "status"), str(req, "received"), str(v, "due"), str(v, "citation"))
	if v["overdue"] == true {
		fmt.Fprint(w, ", OVERDUE")
	}
	_, err := fmt.Fprintln(w)
	return err
}

func (e *env) waitingCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "waiting",
		Short: "What waits on you on the law's clocks: access and amendment requests due, releases to resolve, denials to review",
		Example: `  recordvault-cli waiting
  recordvault-cli waiting --json`,
		Args: args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return e.do(func(c *sdk.ClientWithResponses) (*http.Response, error) { return c.Waiting(cmd.Context()) },
				func(w io.Writer, v map[string]any) error {
					names, _ := v["names"].(map[string]any)
					who := func(m map[string]any) string {
						return fmt.Sprintf("%s (%v)", str(m, "client"), names[str(m, "client")])
					}
					late := func(m map[string]any) string {
						if m["overdue"] == true {
							return ", OVERDUE"
						}
						return ""
					}
					items(v["access_requests"], func(m map[string]any) {
						fmt.Fprintf(w, "access request %s of %s: due %s%s\n", str(m, "id"), who(m), str(m, "due"), late(m))
					})
					items(v["amendments"], func(m map[string]any) {
						fmt.Fprintf(w, "amendment request %s of record %s of %s: due %s%s\n", str(m, "amendment"), str(m, "record"), who(m), str(m, "due"), late(m))
					})
					items(v["releases"], func(m map[string]any) {
						fmt.Fprintf(w, "release %s of record %s of %s: awaits %s since %s (decided by %s)\n", str(m, "release"), str(m, "record"), who(m),
							str(m, "awaits"), str(m, "since"), str(m, "decided_by"))
					})
					return nil
				})
		},
	}
}
