package cli

import (
	"fmt"
	"io"
	"net/http"
	"time"

	openapi_types "github.com/oapi-codegen/runtime/types"
	"github.com/spf13/cobra"

	"github.com/recordvault/recordvault/sdk"
)

func (e *env) clientsCommand() *cobra.Command {
	var name, born string
	var team []string
	add := &cobra.Command{
		Use:     "add",
		Short:   "Take in a client (clinic admins set the care team)",
		Example: `  recordvault-cli clients add --name "Jo Example" --born 1990-04-01 --team dr-lee`,
		Args:    args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			dob, err := dateFlag("born", born)
			if err != nil {
				return err
			}
			body := sdk.CreateClientJSONRequestBody{Identity: sdk.Identity{FullName: name, DateOfBirth: dob}}
			if len(team) > 0 {
				body.CareTeam = &team
			}
			return e.do(func(c *sdk.ClientWithResponses) (*http.Response, error) { return c.CreateClient(cmd.Context(), body) }, printID)
		},
	}
	add.Flags().StringVar(&name, "name", "", "the client's full name (required)")
	add.Flags().StringVar(&born, "born", "", "date of birth, YYYY-MM-DD (required)")
	add.Flags().StringSliceVar(&team, "team", nil, "the care team: clinicians' subjects, comma-separated")
	requireFlags(add, "name", "born")

	find := &cobra.Command{
		Use:     "find",
		Short:   "Find a client by exact full name and date of birth",
		Example: `  recordvault-cli clients find --name "Jo Example" --born 1990-04-01`,
		Args:    args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			dob, err := dateFlag("born", born)
			if err != nil {
				return err
			}
			body := sdk.FindClientsJSONRequestBody{FullName: name, DateOfBirth: dob}
			return e.do(func(c *sdk.ClientWithResponses) (*http.Response, error) { return c.FindClients(cmd.Context(), body) },
				func(w io.Writer, v map[string]any) error {
					items(v["items"], func(m map[string]any) { fmt.Fprintln(w, str(m, "id")) })
					return nil
				})
		},
	}
	find.Flags().StringVar(&name, "name", "", "the client's full name (required)")
	find.Flags().StringVar(&born, "born", "", "date of birth, YYYY-MM-DD (required)")
	requireFlags(find, "name", "born")

	show := &cobra.Command{
		Use:   "show <client>",
		Short: "Show a client: identity and care team",
		Example: `  recordvault-cli clients show <client>
  recordvault-cli clients show <client> --json`,
		Args: args("client"),
		RunE: func(cmd *cobra.Command, a []string) error {
			return e.do(func(c *sdk.ClientWithResponses) (*http.Response, error) { return c.GetClient(cmd.Context(), a[0]) },
				func(w io.Writer, v map[string]any) error {
					id, _ := v["identity"].(map[string]any)
					_, err := fmt.Fprintf(w, "%s  %s, born %s\ncare team: %s\n", str(v, "id"), str(id, "full_name"), str(id, "date_of_birth"), str(v, "care_team"))
					return err
				})
		},
	}
	link := &cobra.Command{
		Use:     "link <client> <login>",
		Short:   "Make a login (its subject at the identity provider) the client's own account (clinic admins)",
		Example: `  recordvault-cli clients link <client> client-jo`,
		Args:    args("client", "login"),
		RunE: func(cmd *cobra.Command, a []string) error {
			body := sdk.LinkAccountJSONRequestBody{Subject: a[1]}
			return e.do(func(c *sdk.ClientWithResponses) (*http.Response, error) {
				return c.LinkAccount(cmd.Context(), a[0], body)
			},
				func(w io.Writer, _ map[string]any) error {
					_, err := fmt.Fprintf(w, "%s is %s's own account\n", a[1], a[0])
					return err
				})
		},
	}
	return group("clients", "Take in, find, show and link the clinic's clients", add, find, show, link, e.clientsRepresent(), e.clientsUnrepresent())
}

func (e *env) clientsRepresent() *cobra.Command {
	var relationship string
	var facts struct{ authority, informed, objects, compelling, confidential, abuse, ownCare bool }
	cmd := &cobra.Command{
		Use:   "represent <client> <login>",
		Short: "Record a login as the client's personal representative: a parent, a guardian, or another with legal authority (clinic admins)",
		Example: `  recordvault-cli clients represent <client> parent-ana --relationship parent
  recordvault-cli clients represent <client> parent-ana --relationship parent --minor-informed   # Illinois, 12 to 17`,
		Long: `represent records what the clinic knows of a personal representative (45 CFR 164.502(g)).
What the login may then do for the client, the policy decides each time from these facts,
the client's age and the clinic's jurisdiction; run it again to change what is known.`,
		Args: args("client", "login"),
		RunE: func(cmd *cobra.Command, a []string) error {
			body := sdk.LinkRepresentativeJSONRequestBody{Relationship: sdk.LinkRepresentativeJSONBodyRelationship(relationship),
				Authority: &facts.authority, MinorInformed: &facts.informed, MinorObjects: &facts.objects, CompellingReason: &facts.compelling,
				ParentAgreedConfidentiality: &facts.confidential, Abuse: &facts.abuse, ConsentedToOwnCare: &facts.ownCare}
			return e.do(func(c *sdk.ClientWithResponses) (*http.Response, error) {
				return c.LinkRepresentative(cmd.Context(), a[0], a[1], body)
			},
				func(w io.Writer, _ map[string]any) error {
					_, err := fmt.Fprintf(w, "%s is a personal representative (%s) of %s\n", a[1], relationship, a[0])
					return err
				})
		},
	}
	f := cmd.Flags()
	f.StringVar(&relationship, "relationship", "", "parent, guardian or other (required)")
	f.BoolVar(&facts.authority, "authority", false, "legal authority to act for the client is on file")
	f.BoolVar(&facts.informed, "minor-informed", false, "the minor was told (Illinois, 12 to 17)")
	f.BoolVar(&facts.objects, "minor-objects", false, "the minor objects")
	f.BoolVar(&facts.compelling, "compelling-reason", false, "the therapist finds a compelling reason to deny the parent")
	f.BoolVar(&facts.confidential, "parent-agreed-confidentiality", false, "the parent agreed the minor's care is confidential")
	f.BoolVar(&facts.abuse, "abuse", false, "treating them as representative could endanger the client (164.502(g)(5))")
	f.BoolVar(&facts.ownCare, "consented-to-own-care", false, "the minor consented to this care, or could get it without a parent")
	requireFlags(cmd, "relationship")
	return cmd
}

func (e *env) clientsUnrepresent() *cobra.Command {
	return &cobra.Command{
		Use:     "unrepresent <client> <login>",
		Short:   "End a login's standing as the client's personal representative (clinic admins)",
		Example: `  recordvault-cli clients unrepresent <client> parent-ana`,
		Args:    args("client", "login"),
		RunE: func(cmd *cobra.Command, a []string) error {
			return e.do(func(c *sdk.ClientWithResponses) (*http.Response, error) {
				return c.UnlinkRepresentative(cmd.Context(), a[0], a[1])
			},
				func(w io.Writer, _ map[string]any) error {
					_, err := fmt.Fprintf(w, "%s no longer acts for %s\n", a[1], a[0])
					return err
				})
		},
	}
}

// dateFlag reads the value s of the date flag named flag, YYYY-MM-DD: a usage error otherwise.
func dateFlag(flag, s string) (openapi_types.Date, error) {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return openapi_types.Date{}, usagef("--%s: a date as YYYY-MM-DD", flag)
	}
	return openapi_types.Date{Time: d}, nil
}
