// The AWS SDK for Go v2 against `credchain serve`: serve-client SECONDS [INTERVAL]
//
// Configured only by the environment (AWS_CONTAINER_CREDENTIALS_FULL_URI and
// AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE). One config.LoadDefaultConfig for the whole run, as
// an application loads it once, so cfg.Credentials is the SDK's own aws.CredentialsCache
// around the endpointcreds provider. Each iteration prints one JSON line:
// {"t", "access_key_id", "expiration", "sdk_expiration", "source"} or {"t", "error"}.
//
// config.LoadDefaultConfig wraps the container provider in a CredentialsCache with
// ExpiryWindow = 5 minutes (config/resolve_credentials.go, resolveHTTPCredProvider), and the
// cache moves the Expires it returns that much earlier (CredentialsCache.singleRetrieve,
// adjustExpiresBy; no jitter by default). "sdk_expiration" is that adjusted time; "expiration"
// adds the window back: the expiry the server sent, which is what the credentials are good for.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
)

const containerExpiryWindow = 5 * time.Minute

type line struct {
	T             float64  `json:"t"`
	AccessKeyID   string   `json:"access_key_id,omitempty"`
	Expiration    *float64 `json:"expiration,omitempty"`
	SDKExpiration *float64 `json:"sdk_expiration,omitempty"`
	Source        string   `json:"source,omitempty"`
	Error         string   `json:"error,omitempty"`
}

func unix(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: serve-client SECONDS [INTERVAL]")
		os.Exit(2)
	}
	seconds, err := strconv.ParseFloat(os.Args[1], 64)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	interval := 0.5
	if len(os.Args) > 2 {
		if interval, err = strconv.ParseFloat(os.Args[2], 64); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
	}
	ctx := context.Background()
	end := time.Now().Add(time.Duration(seconds * float64(time.Second)))
	step := time.Duration(interval * float64(time.Second))
	out := json.NewEncoder(os.Stdout)
	cfg, cfgErr := config.LoadDefaultConfig(ctx)
	for {
		var l line
		if cfgErr != nil {
			l = line{T: unix(time.Now()), Error: "LoadDefaultConfig: " + cfgErr.Error()}
		} else if creds, err := cfg.Credentials.Retrieve(ctx); err != nil {
			l = line{T: unix(time.Now()), Error: err.Error()}
		} else {
			l = line{T: unix(time.Now()), AccessKeyID: creds.AccessKeyID, Source: creds.Source}
			if creds.CanExpire {
				sdk := unix(creds.Expires)
				served := unix(creds.Expires.Add(containerExpiryWindow))
				l.SDKExpiration, l.Expiration = &sdk, &served
			}
		}
		if err := out.Encode(l); err != nil {
			os.Exit(1)
		}
		if time.Now().Add(step).After(end) {
			return
		}
		time.Sleep(step)
	}
}
