package policies

import (
	"fmt"
	"slices"
	"strings"
)

// Managed Kubernetes and key type tokens.
const (
	typeEKS           = "aws:eks/cluster:Cluster"
	typeEKSNodeGroup  = "aws:eks/nodeGroup:NodeGroup"
	typeGKE           = "gcp:container/cluster:Cluster"
	typeGKENodePool   = "gcp:container/nodePool:NodePool"
	typeAKS           = "azure-native:containerservice:ManagedCluster"
	typeAKSAgentPool  = "azure-native:containerservice:AgentPool"
	typeAWSKey        = "aws:kms/key:Key"
	typeGCPCryptoKey  = "gcp:kms/cryptoKey:CryptoKey"
	typeAzureVaultKey = "azure-native:keyvault:Key"
)

// worldCIDRs are the CIDRs that mean "the whole internet".
var worldCIDRs = []string{"0.0.0.0/0", "::/0"}

// restrictedCIDRs says what is wrong with an allow-list of CIDRs for an API
// endpoint, or "" if it is a non-empty list without the whole internet.
func restrictedCIDRs(cidrs []string, field string) string {
	if len(cidrs) == 0 {
		return fmt.Sprintf("has a public API endpoint open to any address; make it private or list the allowed CIDRs in %s", field)
	}
	if slices.ContainsFunc(cidrs, func(c string) bool { return slices.Contains(worldCIDRs, c) }) {
		return fmt.Sprintf("allows the whole internet in %s; list only the operators' and CI's CIDRs", field)
	}
	return ""
}

func checkEndpointRestricted(r Resource, _ StackInfo) (string, error) {
	p := props(r)
	switch {
	case r.is(typeEKS):
		public, set, err := p.at("vpcConfig", "endpointPublicAccess").boolean()
		if err != nil || (set && !public) {
			return "", err
		}
		cidrs, err := p.at("vpcConfig", "publicAccessCidrs").strings()
		if err != nil {
			return "", err
		}
		return restrictedCIDRs(cidrs, "vpcConfig.publicAccessCidrs"), nil
	case r.is(typeGKE):
		private, _, err := p.at("privateClusterConfig", "enablePrivateEndpoint").boolean()
		if err != nil || private {
			return "", err
		}
		google, _, err := p.at("masterAuthorizedNetworksConfig", "gcpPublicCidrsAccessEnabled").boolean()
		if err != nil {
			return "", err
		}
		if google {
			return "lets every Google Cloud address reach the API endpoint; set masterAuthorizedNetworksConfig.gcpPublicCidrsAccessEnabled to false", nil
		}
		cidrs, err := listOf(p.at("masterAuthorizedNetworksConfig", "cidrBlocks"), "cidrBlock")
		if err != nil {
			return "", err
		}
		return restrictedCIDRs(cidrs, "masterAuthorizedNetworksConfig.cidrBlocks"), nil
	case r.is(typeAKS):
		access := p.key("apiServerAccessProfile")
		private, _, err := access.key("enablePrivateCluster").boolean()
		if err != nil || private {
			return "", err
		}
		cidrs, err := access.key("authorizedIPRanges").strings()
		if err != nil {
			return "", err
		}
		return restrictedCIDRs(cidrs, "apiServerAccessProfile.authorizedIPRanges"), nil
	}
	return "", nil
}

// listOf reads the string field of every object in a list.
func listOf(n node, field string) ([]string, error) {
	items, err := n.items()
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		s, _, err := it.key(field).str()
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func checkSecretsEncryption(r Resource, _ StackInfo) (string, error) {
	p := props(r)
	switch {
	case r.is(typeEKS):
		key, err := p.at("encryptionConfig", "provider", "keyArn").isSet()
		if err != nil {
			return "", err
		}
		res, err := p.at("encryptionConfig", "resources").strings()
		if err != nil {
			return "", err
		}
		if !key || !slices.Contains(res, "secrets") {
			return "stores Secrets without KMS envelope encryption; set encryptionConfig {provider.keyArn: a rotated KMS key, resources: [secrets]}", nil
		}
	case r.is(typeGKE):
		state, _, err := p.at("databaseEncryption", "state").str()
		if err != nil {
			return "", err
		}
		key, err := p.at("databaseEncryption", "keyName").isSet()
		if err != nil {
			return "", err
		}
		if state != "ENCRYPTED" || !key {
			return "stores Secrets without Cloud KMS encryption; set databaseEncryption {state: ENCRYPTED, keyName: a rotated CryptoKey}", nil
		}
	case r.is(typeAKS):
		kms := p.at("securityProfile", "azureKeyVaultKms")
		on, _, err := kms.key("enabled").boolean()
		if err != nil {
			return "", err
		}
		key, err := kms.key("keyId").isSet()
		if err != nil {
			return "", err
		}
		if !on || !key {
			return "stores Secrets without Key Vault KMS encryption; set securityProfile.azureKeyVaultKms {enabled: true, keyId: a rotated key}", nil
		}
	}
	return "", nil
}

func checkKeyRotation(r Resource, _ StackInfo) (string, error) {
	p := props(r)
	switch {
	case r.is(typeAWSKey):
		spec, _, err := p.key("customerMasterKeySpec").str()
		if err != nil {
			return "", err
		}
		if spec != "" && spec != "SYMMETRIC_DEFAULT" {
			return "", nil // AWS rotates only symmetric keys
		}
		on, _, err := p.key("enableKeyRotation").boolean()
		if err != nil || on {
			return "", err
		}
		return "is never rotated; set enableKeyRotation to true", nil
	case r.is(typeGCPCryptoKey):
		period, err := p.key("rotationPeriod").isSet()
		if err != nil || period {
			return "", err
		}
		return "is never rotated; set rotationPeriod (for example 7776000s, 90 days)", nil
	case r.is(typeAzureVaultKey):
		actions, err := p.at("properties", "rotationPolicy", "lifetimeActions").items()
		if err != nil {
			return "", err
		}
		for _, a := range actions {
			typ, _, err := a.at("action", "type").str()
			if err != nil {
				return "", err
			}
			if strings.EqualFold(typ, "rotate") {
				return "", nil
			}
		}
		return "is never rotated; add properties.rotationPolicy with a lifetime action of type Rotate", nil
	}
	return "", nil
}

// eksLogTypes are the EKS control-plane logs every cluster ships.
var eksLogTypes = []string{"api", "audit", "authenticator"}

func checkControlPlaneLogging(r Resource, _ StackInfo) (string, error) {
	p := props(r)
	switch {
	case r.is(typeEKS):
		types, err := p.key("enabledClusterLogTypes").strings()
		if err != nil {
			return "", err
		}
		var missing []string
		for _, t := range eksLogTypes {
			if !slices.Contains(types, t) {
				missing = append(missing, t)
			}
		}
		if len(missing) > 0 {
			return fmt.Sprintf("does not ship the %s control-plane logs; add them to enabledClusterLogTypes", strings.Join(missing, ", ")), nil
		}
	case r.is(typeGKE):
		service, _, err := p.key("loggingService").str()
		if err != nil {
			return "", err
		}
		if service == "none" {
			return "has Cloud Logging turned off; remove loggingService: none", nil
		}
		comps := p.at("loggingConfig", "enableComponents")
		set, err := comps.isSet()
		if err != nil || !set {
			return "", err
		}
		list, err := comps.strings()
		if err != nil {
			return "", err
		}
		for _, want := range []string{"SYSTEM_COMPONENTS", "APISERVER"} {
			if !slices.Contains(list, want) {
				return fmt.Sprintf("does not log %s; add it to loggingConfig.enableComponents", want), nil
			}
		}
	case r.is(typeAKS):
		addons, err := p.key("addonProfiles").object()
		if err != nil {
			return "", err
		}
		for name, a := range addons {
			if !strings.EqualFold(name, "omsagent") {
				continue
			}
			on, _, err := a.key("enabled").boolean()
			if err != nil || on {
				return "", err
			}
		}
		return "sends no logs to Log Analytics; enable addonProfiles.omsagent with a logAnalyticsWorkspaceResourceID", nil
	}
	return "", nil
}

// bounds checks a min/max(/desired) node count triple.
func bounds(minN, maxN node, desired node, what string) (string, error) {
	lo, loSet, err := minN.integer()
	if err != nil {
		return "", err
	}
	hi, hiSet, err := maxN.integer()
	if err != nil {
		return "", err
	}
	d, dSet, err := desired.integer()
	if err != nil {
		return "", err
	}
	switch {
	case !loSet || !hiSet:
		return fmt.Sprintf("%s has no autoscaling bounds; set %s and %s", what, minN.path, maxN.path), nil
	case lo < 0 || hi < 1 || lo > hi:
		return fmt.Sprintf("%s has impossible autoscaling bounds %d..%d; set 0 <= %s <= %s and %s >= 1", what, lo, hi, minN.path, maxN.path, maxN.path), nil
	case dSet && (d < lo || d > hi):
		return fmt.Sprintf("%s wants %d nodes, outside its bounds %d..%d; set %s between them", what, d, lo, hi, desired.path), nil
	}
	return "", nil
}

// gkeBounds checks a GKE autoscaling block (per-zone or total counts).
func gkeBounds(a node, what string) (string, error) {
	set, err := a.key("totalMaxNodeCount").isSet()
	if err != nil {
		return "", err
	}
	if set {
		return bounds(a.key("totalMinNodeCount"), a.key("totalMaxNodeCount"), node{}, what)
	}
	return bounds(a.key("minNodeCount"), a.key("maxNodeCount"), node{}, what)
}

// aksBounds checks an AKS agent pool profile.
func aksBounds(pool node, what string) (string, error) {
	on, _, err := pool.key("enableAutoScaling").boolean()
	if err != nil {
		return "", err
	}
	if !on {
		return fmt.Sprintf("%s does not autoscale; set %s to true with minCount and maxCount", what, pool.key("enableAutoScaling").path), nil
	}
	return bounds(pool.key("minCount"), pool.key("maxCount"), pool.key("count"), what)
}

func checkNodeAutoscaling(r Resource, _ StackInfo) ([]string, error) {
	p := props(r)
	var msgs []string
	add := func(msg string, err error) error {
		if msg != "" {
			msgs = append(msgs, msg)
		}
		return err
	}
	switch {
	case r.is(typeEKSNodeGroup):
		s := p.key("scalingConfig")
		return msgs, add(bounds(s.key("minSize"), s.key("maxSize"), s.key("desiredSize"), "the node group"))
	case r.is(typeGKENodePool):
		return msgs, add(gkeBounds(p.key("autoscaling"), "the node pool"))
	case r.is(typeAKSAgentPool):
		return msgs, add(aksBounds(p, "the agent pool"))
	case r.is(typeGKE):
		autopilot, _, err := p.key("enableAutopilot").boolean()
		if err != nil || autopilot {
			return nil, err
		}
		removed, _, err := p.key("removeDefaultNodePool").boolean()
		if err != nil {
			return nil, err
		}
		if !removed {
			msgs = append(msgs, "keeps the default node pool, which does not autoscale; set removeDefaultNodePool to true and add NodePools with autoscaling")
		}
		pools, err := p.key("nodePools").items()
		if err != nil {
			return msgs, err
		}
		for i, pool := range pools {
			if err := add(gkeBounds(pool.key("autoscaling"), fmt.Sprintf("node pool %d", i))); err != nil {
				return msgs, err
			}
		}
	case r.is(typeAKS):
		pools, err := p.key("agentPoolProfiles").items()
		if err != nil {
			return nil, err
		}
		for _, pool := range pools {
			what := fmt.Sprintf("agent pool %q", pool.key("name").nameOr("?"))
			if err := add(aksBounds(pool, what)); err != nil {
				return msgs, err
			}
		}
	}
	return msgs, nil
}
