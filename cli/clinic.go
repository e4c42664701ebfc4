package cli

import (
	"fmt"
	"io"
	"net/http"

	"github.com/spf13/cobra"

	"github.com/recordvault/recordvault/sdk"
)

func (e *env) clinicCommand() *cobra.Command {
	show := &cobra.Command{
		Use:     "show",
		Short:   "Show the clinic's settings: its name and contact, the law it practises under",
		Example: `  recordvault-cli clinic show`,
		Args:    args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return e.do(func(c *sdk.ClientWithResponses) (*http.Response, error) { return c.GetClinic(cmd.Context()) }, showClinic)
		},
	}
	var name, contact string
	profile := &cobra.Command{
		Use:     "profile",
		Short:   "Name the clinic and say how it is reached, as its released copies will (clinic admins)",
		Example: `  recordvault-cli clinic profile --name "Lakeside Counseling" --contact "1 Lake St, Springfield; 555-0100"`,
		Args:    args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			body := sdk.SetClinicProfileJSONRequestBody{Name: name}
			if contact != "" {
				body.Contact = &contact
			}
			return e.do(func(c *sdk.ClientWithResponses) (*http.Response, error) {
				return c.SetClinicProfile(cmd.Context(), body)
			}, showClinic)
		},
	}
	profile.Flags().StringVar(&name, "name", "", "the clinic's name (required)")
	profile.Flags().StringVar(&contact, "contact", "", "how it is reached: address, telephone")
	requireFlags(profile, "name")
	jurisdiction := &cobra.Command{
		Use:     "jurisdiction <jurisdiction>",
		Short:   "Set the law the clinic practises under (clinic admins): US, US-CA, US-IL",
		Example: `  recordvault-cli clinic jurisdiction US-IL`,
		Args:    args("jurisdiction"),
		RunE: func(cmd *cobra.Command, a []string) error {
			body := sdk.SetJurisdictionJSONRequestBody{Jurisdiction: sdk.SetJurisdictionJSONBodyJurisdiction(a[0])}
			return e.do(func(c *sdk.ClientWithResponses) (*http.Response, error) {
				return c.SetJurisdiction(cmd.Context(), body)
			}, showClinic)
		},
	}
	return group("clinic", "The clinic's settings: name and contact, jurisdiction", show, profile, jurisdiction)
}

// showClinic prints the clinic's settings.
func showClinic(w io.Writer, v map[string]any) error {
	name := str(v, "name")
	if name == "" {
		name = "(no name set)"
	}
	_, err := fmt.Fprintf(w, "%s  %s\n  contact: %s\n  jurisdiction: %s\n", str(v, "clinic"), name, str(v, "contact"), str(v, "jurisdiction"))
	return err
}
