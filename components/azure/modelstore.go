package azure

import (
	"cmp"
	"regexp"
	"slices"

	"github.com/mobile-mm-llm/mobile-mm-llm/components/global/cloud"
	"github.com/mobile-mm-llm/mobile-mm-llm/components/kube"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// ModelStoreType is the model storage component's type token.
const ModelStoreType = "mobile-mm-llm:azure:ModelStore"

// ModelsContainer is the blob container holding the models.
const ModelsContainer = "models"

// geoSKUs are the redundancies that copy the account to the region's
// Azure pair (the DR copy); RA- adds read access there before a failover.
var geoSKUs = []string{"Standard_RAGZRS", "Standard_GZRS", "Standard_RAGRS", "Standard_GRS"}

// ModelStoreArgs configure the model storage account: geo-redundant (Azure
// copies it to the region's paired region), versioned, soft-deleted, HTTPS
// and TLS 1.2 only, no anonymous or shared-key access. ResourceGroupName,
// Location, AccountName and Tags are required.
type ModelStoreArgs struct {
	// ResourceGroupName is the (existing) resource group.
	ResourceGroupName pulumi.StringInput
	// Location is the primary region; the copy is in its Azure pair
	// (westeurope: northeurope).
	Location string
	// AccountName is the globally unique account name (3 to 24 lower-case
	// letters and digits).
	AccountName string
	// SKU is the redundancy, one of Standard_RAGZRS (default),
	// Standard_GZRS, Standard_RAGRS, Standard_GRS.
	SKU string
	// SubnetIDs, if any, are the only networks admitted (the cluster's
	// nodes subnet, which has the Microsoft.Storage service endpoint).
	SubnetIDs []pulumi.StringInput
	// DeleteRetentionDays keeps deleted blobs and containers (default 30).
	DeleteRetentionDays int
	// NoncurrentVersionDays deletes old blob versions after this long
	// (default 90).
	NoncurrentVersionDays int
	// Tags are put on every resource; they must hold cloud.RequiredTags.
	Tags map[string]string
}

// ModelStore is the storage account with its models container.
type ModelStore struct {
	pulumi.ResourceState

	// AccountName is the storage account's name.
	AccountName pulumi.StringOutput `pulumi:"accountName"`
	// AccountID is its resource ID (scope for role assignments).
	AccountID pulumi.StringOutput `pulumi:"accountId"`
	// ContainerURL is https://ACCOUNT.blob.core.windows.net/models.
	ContainerURL pulumi.StringOutput `pulumi:"containerUrl"`
}

var accountName = regexp.MustCompile(`^[a-z0-9]{3,24}$`)

// prepare fills the defaults and validates the result.
func (args ModelStoreArgs) prepare() (ModelStoreArgs, error) {
	a := args
	a.SKU = cmp.Or(a.SKU, "Standard_RAGZRS")
	a.DeleteRetentionDays = cmp.Or(a.DeleteRetentionDays, 30)
	a.NoncurrentVersionDays = cmp.Or(a.NoncurrentVersionDays, 90)
	return a, a.validate()
}

func (a ModelStoreArgs) validate() error {
	c := kube.NewChecker("azure.NewModelStore")
	checkAccount(c, a.ResourceGroupName, a.Location, a.Tags)
	if !accountName.MatchString(a.AccountName) {
		c.Failf("AccountName", "%q is not a storage account name (3 to 24 lower-case letters and digits)", a.AccountName)
	}
	if !slices.Contains(geoSKUs, a.SKU) {
		c.Failf("SKU", "is %q; the disaster-recovery copy needs one of %v", a.SKU, geoSKUs)
	}
	c.Range("DeleteRetentionDays", a.DeleteRetentionDays, 1, 365)
	c.Range("NoncurrentVersionDays", a.NoncurrentVersionDays, 1, 3650)
	return c.Err()
}

// NewModelStore creates the storage account. Pass the azure-native
// provider in opts.
func NewModelStore(ctx *pulumi.Context, name string, args *ModelStoreArgs, opts ...pulumi.ResourceOption) (*ModelStore, error) {
	comp := &ModelStore{}
	return cloud.New(ctx, "azure.NewModelStore", ModelStoreType, name, args, comp, opts, ModelStoreArgs.prepare,
		func(a ModelStoreArgs) error { return buildModelStore(ctx, name, a, comp) })
}

func buildModelStore(ctx *pulumi.Context, name string, a ModelStoreArgs, comp *ModelStore) error {
	child := pulumi.Parent(comp)
	account, err := register(ctx, tokenStorageAccount, name, storageAccountArgs{
		ResourceGroupName: a.ResourceGroupName, AccountName: a.AccountName, Location: a.Location, SKU: a.SKU,
		SubnetIDs: a.SubnetIDs, Tags: kube.StringMap(a.Tags),
	}.inputs(), child)
	if err != nil {
		return err
	}
	blobs, err := register(ctx, tokenBlobService, name, blobServiceArgs{
		ResourceGroupName: a.ResourceGroupName, AccountName: account.Name, DeleteRetentionDay: a.DeleteRetentionDays,
	}.inputs(), child)
	if err != nil {
		return err
	}
	if _, err := register(ctx, tokenManagementPolicy, name, versionLifecycle(a.ResourceGroupName, account.Name, a.NoncurrentVersionDays), child); err != nil {
		return err
	}
	if _, err := register(ctx, tokenBlobContainer, name+"-"+ModelsContainer, pulumi.Map{
		"resourceGroupName": a.ResourceGroupName, "accountName": account.Name,
		"containerName": pulumi.String(ModelsContainer), "publicAccess": pulumi.String("None"),
	}, child, pulumi.DependsOn([]pulumi.Resource{blobs})); err != nil {
		return err
	}
	comp.AccountName, comp.AccountID = account.Name, account.ID().ToStringOutput()
	comp.ContainerURL = pulumi.Sprintf("https://%s.blob.core.windows.net/%s", account.Name, ModelsContainer)
	return ctx.RegisterResourceOutputs(comp, pulumi.Map{"accountName": comp.AccountName, "accountId": comp.AccountID, "containerUrl": comp.ContainerURL})
}
