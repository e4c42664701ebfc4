package cli

import (
	"fmt"
	"io"
	"net/http"

	"github.com/spf13/cobra"

	"github.com/recordvault/recordvault/sdk"
)

func (e *env) releasesCommand() *cobra.Command {
	return group("releases", "Ask for, list and show releases, and issue their download links",
		e.releasesRequest(), e.releasesList(), e.releasesShow(), e.releasesLink(), e.releasesReview(), e.releasesResolve(), e.releasesRevoke())
}

func (e *env) releasesRequest() *cobra.Command {
	var in sdk.CreateReleaseJSONRequestBody
	var file, document, basis, kind, recipientID, name, email, purpose string
	var fields []string
	var days int
	cmd := &cobra.Command{
		Use:   "request <client>",
		Short: "Ask for a release of one document to one recipient on one legal basis",
		Long: `request asks for a release: the service decides it by rule (approve, refuse, or send it
for review) and answers with the decision, its rule and its citation. The flags cover the
common releases; --file takes the whole request as JSON (docs/openapi.yaml's ReleaseInput:
a clinician's attestation, a subpoena's assurances, a reviewable denial, a minor's consent,
an amendment notice), and the flags given with it override its fields.`,
		Example: `  recordvault-cli releases request <client> --document <record> --basis right_of_access --recipient client --purpose "Jo's copy"
  recordvault-cli releases request <client> --document <record> --basis treatment --recipient provider --recipient-id dr-patel --purpose consult
  recordvault-cli releases request <client> --file release.json`,
		Args: args("client"),
		RunE: func(cmd *cobra.Command, a []string) error {
			if file != "" {
				if err := e.readJSON(file, &in); err != nil {
					return err
				}
			}
			flags := cmd.Flags()
			for flag, set := range map[string]func(){
				"document": func() { in.Document = document }, "purpose": func() { in.Purpose = purpose },
				"basis":        func() { in.Basis = sdk.ReleaseInputBasis(basis) },
				"recipient":    func() { in.Recipient.Kind = sdk.ReleaseInputRecipientKind(kind) },
				"recipient-id": func() { in.Recipient.Id = &recipientID }, "recipient-name": func() { in.Recipient.Name = &name },
				"recipient-email": func() { in.Recipient.Email = &email }, "fields": func() { in.Fields = &fields },
				"valid-days": func() { in.ValidDays = &days },
			} {
				if flags.Changed(flag) {
					set()
				}
			}
			if in.Document == "" || in.Basis == "" || in.Recipient.Kind == "" || in.Purpose == "" {
				return usagef("%s needs --document, --basis, --recipient and --purpose, or a --file that has them", cmd.CommandPath())
			}
			return e.do(func(c *sdk.ClientWithResponses) (*http.Response, error) {
				return c.CreateRelease(cmd.Context(), a[0], in)
			}, showRelease)
		},
	}
	f := cmd.Flags()
	f.StringVar(&file, "file", "", "the whole request, JSON; - for standard input")
	f.StringVar(&document, "document", "", "the record released")
	f.StringVar(&basis, "basis", "", "the legal basis: right_of_access, treatment, authorization, court_order, …")
	f.StringVar(&kind, "recipient", "", "who receives it: client, provider, attorney, school, personal_representative, …")
	f.StringVar(&recipientID, "recipient-id", "", "the recipient's id (a provider on the roster, a registered recipient)")
	f.StringVar(&name, "recipient-name", "", "the recipient's name")
	f.StringVar(&email, "recipient-email", "", "where one-time codes go, for a recipient without a login")
	f.StringVar(&purpose, "purpose", "", "why it is released")
	f.StringSliceVar(&fields, "fields", nil, "the fields asked for; all when absent")
	f.IntVar(&days, "valid-days", 0, "how long its links may be issued; the service's default when absent")
	return cmd
}

// showRelease prints a release: its id alone on the first line (for scripts), then its
// decision and what it releases.
func showRelease(w io.Writer, v map[string]any) error {
	d, _ := v["decision"].(map[string]any)
	rule, _ := d["rule"].(map[string]any)
	fmt.Fprintf(w, "%s\n  %s: %s (%s)\n", str(v, "id"), str(v, "status"), str(rule, "text"), str(rule, "citation"))
	fmt.Fprintf(w, "  document %s to %s, basis %s", str(v, "document"), str(v, "recipient"), str(v, "basis"))
	if until := str(v, "valid_until"); until != "" {
		fmt.Fprintf(w, ", links until %s", until)
	}
	_, err := fmt.Fprintln(w)
	return err
}

func (e *env) releasesList() *cobra.Command {
	return &cobra.Command{
		Use:     "list <client>",
		Short:   "List a client's releases",
		Example: `  recordvault-cli releases list <client>`,
		Args:    args("client"),
		RunE: func(cmd *cobra.Command, a []string) error {
			return e.do(func(c *sdk.ClientWithResponses) (*http.Response, error) { return c.ListReleases(cmd.Context(), a[0]) },
				func(w io.Writer, v map[string]any) error {
					items(v["items"], func(m map[string]any) {
						fmt.Fprintf(w, "%s  %-12s %s  %s\n", str(m, "id"), str(m, "status"), str(m, "basis"), str(m, "document"))
					})
					return nil
				})
		},
	}
}

func (e *env) releasesShow() *cobra.Command {
	return &cobra.Command{
		Use:     "show <client> <release>",
		Short:   "Show a release and its decision",
		Example: `  recordvault-cli releases show <client> <release> --json`,
		Args:    args("client", "release"),
		RunE: func(cmd *cobra.Command, a []string) error {
			return e.do(func(c *sdk.ClientWithResponses) (*http.Response, error) {
				return c.GetRelease(cmd.Context(), a[0], a[1])
			}, showRelease)
		},
	}
}

func (e *env) releasesLink() *cobra.Command {
	return &cobra.Command{
		Use:     "link <client> <release>",
		Short:   "Issue a download link for an approved release, and print it",
		Example: `  recordvault-cli releases link <client> <release>   # the recipient page link, then the token`,
		Long: `link issues a short-lived, single-use download token for an approved release inside its
window and prints the link a recipient without a login opens (the recipient page, where a
one-time code goes to their registered address), then the token itself.`,
		Args: args("client", "release"),
		RunE: func(cmd *cobra.Command, a []string) error {
			return e.do(func(c *sdk.ClientWithResponses) (*http.Response, error) {
				return c.IssueToken(cmd.Context(), a[0], a[1])
			},
				func(w io.Writer, v map[string]any) error {
					_, err := fmt.Fprintf(w, "%s/r#t=%s\ntoken %s\nexpires %s\n", e.url(), str(v, "token"), str(v, "token"), str(v, "expires"))
					return err
				})
		},
	}
}

func (e *env) releasesReview() *cobra.Command {
	var uphold, overturn bool
	cmd := &cobra.Command{
		Use:   "review <client> <release>",
		Short: "Review a reviewable denial, as a licensed clinician who took no part in it (164.524(d)(4))",
		Example: `  recordvault-cli releases review <client> <release> --uphold
  recordvault-cli releases review <client> <release> --overturn    # the document is released whole`,
		Args: args("client", "release"),
		RunE: func(cmd *cobra.Command, a []string) error {
			if uphold == overturn {
				return usagef("give one of --uphold and --overturn")
			}
			body := sdk.ReviewDenialJSONRequestBody{Upheld: uphold}
			return e.do(func(c *sdk.ClientWithResponses) (*http.Response, error) {
				return c.ReviewDenial(cmd.Context(), a[0], a[1], body)
			}, showRelease)
		},
	}
	cmd.Flags().BoolVar(&uphold, "uphold", false, "the denial stands")
	cmd.Flags().BoolVar(&overturn, "overturn", false, "the denial is overturned")
	return cmd
}

func (e *env) releasesResolve() *cobra.Command {
	var approve, refuse bool
	var reason string
	cmd := &cobra.Command{
		Use:     "resolve <client> <release>",
		Short:   "Approve or refuse a release the rules sent for review (clinic admins)",
		Example: `  recordvault-cli releases resolve <client> <release> --approve --reason "The authorization on file covers it."`,
		Args:    args("client", "release"),
		RunE: func(cmd *cobra.Command, a []string) error {
			if approve == refuse {
				return usagef("give one of --approve and --refuse")
			}
			body := sdk.ResolveReleaseJSONRequestBody{Approve: approve, Reason: reason}
			return e.do(func(c *sdk.ClientWithResponses) (*http.Response, error) {
				return c.ResolveRelease(cmd.Context(), a[0], a[1], body)
			}, showRelease)
		},
	}
	cmd.Flags().BoolVar(&approve, "approve", false, "approve it")
	cmd.Flags().BoolVar(&refuse, "refuse", false, "refuse it")
	cmd.Flags().StringVar(&reason, "reason", "", "the reviewer's reason (required)")
	requireFlags(cmd, "reason")
	return cmd
}

func (e *env) releasesRevoke() *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:     "revoke <client> <release>",
		Short:   "End an approved release before its window closes: every link to it fails from now on",
		Example: `  recordvault-cli releases revoke <client> <release> --reason "the client withdrew the request"`,
		Args:    args("client", "release"),
		RunE: func(cmd *cobra.Command, a []string) error {
			body := sdk.RevokeReleaseJSONRequestBody{Reason: reason}
			return e.do(func(c *sdk.ClientWithResponses) (*http.Response, error) {
				return c.RevokeRelease(cmd.Context(), a[0], a[1], body)
			}, showRelease)
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why (required)")
	requireFlags(cmd, "reason")
	return cmd
}

func (e *env) accountingCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "accounting <client>",
		Short: "A client's accounting of disclosures (45 CFR 164.528)",
		Example: `  recordvault-cli accounting <client>
  recordvault-cli accounting <client> --json`,
		Args: args("client"),
		RunE: func(cmd *cobra.Command, a []string) error {
			return e.do(func(c *sdk.ClientWithResponses) (*http.Response, error) { return c.GetAccounting(cmd.Context(), a[0]) },
				func(w io.Writer, v map[string]any) error {
					entries, _ := v["entries"].([]any)
					fmt.Fprintf(w, "%s to %s: %d disclosure(s)\n", str(v, "from"), str(v, "to"), len(entries))
					for _, it := range entries {
						if m, ok := it.(map[string]any); ok {
							fmt.Fprintf(w, "  %s  %s  %s  %s\n", str(m, "date"), str(m, "recipient"), str(m, "purpose"), str(m, "document"))
						}
					}
					return nil
				})
		},
	}
}

func (e *env) auditCommand() *cobra.Command {
	return group("audit", "The clinic's audit trail", &cobra.Command{
		Use:     "verify",
		Short:   "Verify the clinic's audit chain (clinic admins)",
		Example: `  recordvault-cli audit verify && echo intact`,
		Long:    `verify asks the service to check every block of the clinic's signed, hash-linked audit chain. It exits 0 when the chain is intact, 1 with the problem when it is not.`,
		Args:    args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return e.do(func(c *sdk.ClientWithResponses) (*http.Response, error) {
				return c.VerifyAuditTrail(cmd.Context(), nil)
			},
				func(w io.Writer, v map[string]any) error {
					verified, _ := v["verified"].(map[string]any)
					fmt.Fprintf(w, "intact: %s; %s blocks, %s events verified\n", str(v, "intact"), str(verified, "blocks"), str(verified, "events"))
					if v["intact"] != true {
						return fmt.Errorf("the audit chain is not intact: %s", str(v, "problem"))
					}
					return nil
				})
		},
	})
}
