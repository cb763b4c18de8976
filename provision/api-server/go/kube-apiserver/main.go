// kube-apiserver for the harness's API check: the upstream command, nothing added. Built by
// provision/api-server/build.ts against k8s.io/kubernetes with its staging modules at the matching v0 release.
package main

import (
	"os"

	"k8s.io/component-base/cli"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

func main() {
	os.Exit(cli.Run(app.NewAPIServerCommand()))
}
