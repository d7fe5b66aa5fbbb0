package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	"github.com/m2bbs/m2bbs/host/handler/dispatch"
)

// approvals is "m2bbs status -waiting" (name empty: list the new users
// waiting for approval) and "m2bbs status -approve NAME".
func approvals(ctx context.Context, c *sysopClient, name string) error {
	if name != "" {
		if _, err := c.do(ctx, http.MethodPost, "/approve?name="+url.QueryEscape(name), ""); err != nil {
			return err
		}
		fmt.Printf("approved %s\n", name)
		return nil
	}
	body, err := c.do(ctx, http.MethodPost, "/approve", "")
	if err != nil {
		return err
	}
	var r struct{ Waiting []dispatch.WaitingUser }
	if err := json.Unmarshal(body, &r); err != nil {
		return fmt.Errorf("status: %w", err)
	}
	if len(r.Waiting) == 0 {
		fmt.Println("nobody is waiting for approval")
	}
	for _, w := range r.Waiting {
		fmt.Printf("%s  %s\n", w.Registered.Local().Format("2006-01-02 15:04"), w.Name)
	}
	return nil
}
