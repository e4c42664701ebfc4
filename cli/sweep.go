package cli

import (
	"fmt"
	"io"
	"net/http"

	"github.com/spf13/cobra"

	"github.com/recordvault/recordvault/sdk"
)

func (e *env) sweepCommand() *cobra.Command {
	var olderThan string
	cmd := &cobra.Command{
		Use:   "sweep-uploads",
		Short: "Abort attachment uploads left unfinished (a replica killed mid-upload) (clinic admins)",
		Long: `sweep-uploads aborts the clinic's attachment uploads begun more than --older-than ago and
never completed, freeing their space. No record names an unfinished upload, so nothing is lost;
younger ones are left alone, as they may still be streaming. The sweep is audited.`,
		Example: `  recordvault-cli sweep-uploads --older-than 24h`,
		Args:    args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			body := sdk.SweepUploadsJSONRequestBody{OlderThan: olderThan}
			return e.do(func(c *sdk.ClientWithResponses) (*http.Response, error) {
				return c.SweepUploads(cmd.Context(), body)
			}, func(w io.Writer, v map[string]any) error {
				_, err := fmt.Fprintf(w, "%v unfinished uploads aborted, %v younger left\n", v["aborted"], v["young"])
				return err
			})
		},
	}
	cmd.Flags().StringVar(&olderThan, "older-than", "24h", "abort uploads begun before this long ago (1m at least)")
	return cmd
}
