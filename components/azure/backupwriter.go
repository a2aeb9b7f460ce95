package azure

import (
	"fmt"

	"github.com/mobile-mm-llm/mobile-mm-llm/components/kube"
	"github.com/pulumi/pulumi-azure-native-sdk/authorization/v2"
	"github.com/pulumi/pulumi-azure-native-sdk/managedidentity/v2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// blobWriteActions are the data actions of the backup writer's role:
// create and write blobs, nothing else (no read, list or delete).
var blobWriteActions = []string{
	"Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write",
	"Microsoft.Storage/storageAccounts/blobServices/containers/blobs/add/action",
}

// BackupWriterArgs configure the backup job's (components/backup) Azure
// workload identity and its write-only access to one blob container.
type BackupWriterArgs struct {
	// SubscriptionID and ResourceGroup hold the identity and the custom
	// role (whose assignable scope is the resource group).
	SubscriptionID, ResourceGroup, Location string
	// OIDCIssuerURL is the AKS cluster's issuer (Cluster output).
	OIDCIssuerURL pulumi.StringInput
	// Namespace and ServiceAccount are the Kubernetes identity federated.
	Namespace, ServiceAccount string
	// AccountID is the storage account's resource ID (ModelStore output);
	// Container the blob container the role is assigned on.
	AccountID pulumi.StringInput
	Container string
	// Tags are put on the identity.
	Tags map[string]string
}

// BackupWriter is the identity the backup job runs as: annotate its
// ServiceAccount with azure.workload.identity/client-id = ClientID and label
// its pods azure.workload.identity/use=true.
type BackupWriter struct {
	// Identity is the user-assigned managed identity.
	Identity *managedidentity.UserAssignedIdentity
	// ClientID is its client ID.
	ClientID pulumi.StringOutput
}

// NewBackupWriter creates a user-assigned identity, its federated
// credential for system:serviceaccount:Namespace:ServiceAccount from the
// cluster's issuer, a custom role with only blobWriteActions, and that
// role's assignment on the container. Pass the subscription's provider (and
// a parent) in opts.
func NewBackupWriter(ctx *pulumi.Context, name string, a BackupWriterArgs, opts ...pulumi.ResourceOption) (*BackupWriter, error) {
	c := kube.NewChecker("azure.NewBackupWriter")
	c.Required("SubscriptionID", a.SubscriptionID)
	c.Required("ResourceGroup", a.ResourceGroup)
	c.Required("Location", a.Location)
	c.Name("Namespace", a.Namespace)
	c.Name("ServiceAccount", a.ServiceAccount)
	c.Name("Container", a.Container)
	if a.OIDCIssuerURL == nil || a.AccountID == nil {
		c.Failf("OIDCIssuerURL", "the issuer and the storage account ID are both required")
	}
	if err := c.Err(); err != nil {
		return nil, err
	}
	id, err := managedidentity.NewUserAssignedIdentity(ctx, name, &managedidentity.UserAssignedIdentityArgs{
		ResourceGroupName: pulumi.String(a.ResourceGroup), Location: pulumi.String(a.Location), Tags: kube.StringMap(a.Tags),
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("backup writer %s identity: %w", name, err)
	}
	if _, err := managedidentity.NewFederatedIdentityCredential(ctx, name, &managedidentity.FederatedIdentityCredentialArgs{
		ResourceGroupName: pulumi.String(a.ResourceGroup), ResourceName: id.Name,
		Issuer:    a.OIDCIssuerURL,
		Subject:   pulumi.String("system:serviceaccount:" + a.Namespace + ":" + a.ServiceAccount),
		Audiences: kube.StringArray("api://AzureADTokenExchange"),
	}, opts...); err != nil {
		return nil, fmt.Errorf("backup writer %s federated credential: %w", name, err)
	}
	rg := pulumi.Sprintf("/subscriptions/%s/resourceGroups/%s", a.SubscriptionID, a.ResourceGroup)
	role, err := authorization.NewRoleDefinition(ctx, name, &authorization.RoleDefinitionArgs{
		RoleName:         pulumi.Sprintf("%s blob backup writer", name),
		Description:      pulumi.String("Create and write blobs; no read, list or delete (the mobile-mm-llm backup job)."),
		RoleType:         pulumi.String("CustomRole"),
		Scope:            rg,
		AssignableScopes: pulumi.StringArray{rg},
		Permissions:      authorization.PermissionArray{authorization.PermissionArgs{DataActions: kube.StringArray(blobWriteActions...)}},
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("backup writer %s role: %w", name, err)
	}
	if _, err := authorization.NewRoleAssignment(ctx, name, &authorization.RoleAssignmentArgs{
		PrincipalId: id.PrincipalId, PrincipalType: pulumi.String("ServicePrincipal"), RoleDefinitionId: role.ID().ToStringOutput(),
		Scope: pulumi.Sprintf("%s/blobServices/default/containers/%s", a.AccountID, a.Container),
	}, opts...); err != nil {
		return nil, fmt.Errorf("backup writer %s role assignment: %w", name, err)
	}
	return &BackupWriter{Identity: id, ClientID: id.ClientId}, nil
}
