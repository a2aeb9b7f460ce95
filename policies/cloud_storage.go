package policies

import (
	"fmt"
	"slices"
	"strings"
)

// Storage resource type tokens. AWS v6 splits a bucket's settings into
// companion resources; the v7 names are listed too.
const (
	typeS3BucketV2      = "aws:s3/bucketV2:BucketV2"
	typeS3Bucket        = "aws:s3/bucket:Bucket"
	typeS3Encryption    = "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2"
	typeS3EncryptionV7  = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
	typeS3Versioning    = "aws:s3/bucketVersioningV2:BucketVersioningV2"
	typeS3VersioningV7  = "aws:s3/bucketVersioning:BucketVersioning"
	typeS3PublicBlock   = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
	typeS3Replication   = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
	typeS3ACL           = "aws:s3/bucketAclV2:BucketAclV2"
	typeGCSBucket       = "gcp:storage/bucket:Bucket"
	typeGCSIAMMember    = "gcp:storage/bucketIAMMember:BucketIAMMember"
	typeGCSIAMBinding   = "gcp:storage/bucketIAMBinding:BucketIAMBinding"
	typeAzureStorage    = "azure-native:storage:StorageAccount"
	typeAzureBlobConfig = "azure-native:storage:BlobServiceProperties"
)

// publicACLs are the canned S3 ACLs that open a bucket.
var publicACLs = []string{"public-read", "public-read-write", "authenticated-read"}

// publicMembers are the GCS IAM principals that mean "anyone".
var publicMembers = []string{"allUsers", "allAuthenticatedUsers"}

// refersTo reports whether the companion resource c configures target: its
// property prop was computed from target, or holds target's ID or its name
// (target's nameProp).
func refersTo(c Resource, prop string, target Resource, nameProp string) bool {
	if c.dependsOn(prop, target.URN) {
		return true
	}
	v, ok, err := props(c).key(prop).str()
	if err != nil || !ok || v == "" {
		return false
	}
	if v == target.ID {
		return true
	}
	name, ok, err := props(target).key(nameProp).str()
	return err == nil && ok && name == v
}

// companions returns the resources of the given types that configure bucket
// b through their "bucket" property.
func companions(resources []Resource, b Resource, types ...string) []Resource {
	var out []Resource
	for _, c := range resources {
		if c.is(types...) && refersTo(c, "bucket", b, "bucket") {
			out = append(out, c)
		}
	}
	return out
}

// anyLeaf reports whether some value at the end of a path through objects
// and lists satisfies leaf. Lists along the way are searched element by
// element, so one function reads both AWS's inline list forms and its
// companion objects.
func anyLeaf(n node, leaf func(node) (bool, error), path ...string) (bool, error) {
	if items, err := n.items(); err == nil && n.v != nil {
		for _, it := range items {
			if found, err := anyLeaf(it, leaf, path...); found || err != nil {
				return found, err
			}
		}
		return false, nil
	}
	if len(path) == 0 {
		return leaf(n)
	}
	return anyLeaf(n.key(path[0]), leaf, path[1:]...)
}

// anyString is anyLeaf for a string that satisfies ok.
func anyString(n node, ok func(string) bool, path ...string) (bool, error) {
	return anyLeaf(n, func(l node) (bool, error) {
		s, set, err := l.str()
		return set && ok(s), err
	}, path...)
}

// anyTrue is anyLeaf for a boolean that is true.
func anyTrue(n node, path ...string) (bool, error) {
	return anyLeaf(n, func(l node) (bool, error) {
		b, _, err := l.boolean()
		return b, err
	}, path...)
}

// bucketRule adapts a per-bucket check that may look at the bucket's
// companion resources into a stack rule.
func bucketRule(fn func(b Resource, all []Resource, stack StackInfo) (string, error)) func([]Resource, StackInfo) []Violation {
	return func(resources []Resource, stack StackInfo) []Violation {
		var out []Violation
		for _, b := range resources {
			if !b.is(typeS3BucketV2, typeS3Bucket, typeGCSBucket, typeAzureStorage) {
				continue
			}
			msg, err := fn(b, resources, stack)
			if msg != "" {
				out = append(out, violation(b, "%s", msg))
			}
			if err != nil {
				out = append(out, shapeViolation(b, err))
			}
		}
		return out
	}
}

func isSSEAlgorithm(s string) bool { return s == "aws:kms" || s == "aws:kms:dsse" || s == "AES256" }

func checkBucketEncryption(b Resource, all []Resource, _ StackInfo) (string, error) {
	switch {
	case b.is(typeS3BucketV2, typeS3Bucket):
		inline, err := anyString(props(b).key("serverSideEncryptionConfiguration"), isSSEAlgorithm,
			"rule", "applyServerSideEncryptionByDefault", "sseAlgorithm")
		if err != nil || inline {
			return "", err
		}
		inline, err = anyString(props(b).key("serverSideEncryptionConfigurations"), isSSEAlgorithm,
			"rules", "applyServerSideEncryptionByDefaults", "sseAlgorithm")
		if err != nil || inline {
			return "", err
		}
		for _, c := range companions(all, b, typeS3Encryption, typeS3EncryptionV7) {
			found, err := anyString(props(c).key("rules"), isSSEAlgorithm, "applyServerSideEncryptionByDefault", "sseAlgorithm")
			if err != nil || found {
				return "", err
			}
		}
		return "has no default encryption; add a BucketServerSideEncryptionConfigurationV2 with sseAlgorithm aws:kms", nil
	case b.is(typeAzureStorage):
		var problems []string
		tls, _, err := props(b).key("minimumTlsVersion").str()
		if err != nil {
			return "", err
		}
		if tls != "TLS1_2" && tls != "TLS1_3" {
			problems = append(problems, "set minimumTlsVersion to TLS1_2")
		}
		httpsOnly, set, err := props(b).key("enableHttpsTrafficOnly").boolean()
		if err != nil {
			return "", err
		}
		if set && !httpsOnly {
			problems = append(problems, "set enableHttpsTrafficOnly to true")
		}
		if len(problems) > 0 {
			return "allows unencrypted or old-TLS access; " + strings.Join(problems, " and "), nil
		}
	}
	// GCS and Azure Storage encrypt every object at rest and cannot be told not to.
	return "", nil
}

func checkBucketVersioning(b Resource, all []Resource, _ StackInfo) (string, error) {
	switch {
	case b.is(typeS3BucketV2, typeS3Bucket):
		for _, inline := range []string{"versioning", "versionings"} {
			on, err := anyTrue(props(b).key(inline), "enabled")
			if err != nil || on {
				return "", err
			}
		}
		for _, c := range companions(all, b, typeS3Versioning, typeS3VersioningV7) {
			status, _, err := props(c).at("versioningConfiguration", "status").str()
			if err != nil || status == "Enabled" {
				return "", err
			}
		}
		return "is not versioned; add a BucketVersioningV2 with versioningConfiguration.status Enabled", nil
	case b.is(typeGCSBucket):
		on, _, err := props(b).at("versioning", "enabled").boolean()
		if err != nil || on {
			return "", err
		}
		return "is not versioned; set versioning.enabled to true", nil
	case b.is(typeAzureStorage):
		for _, c := range all {
			if !c.is(typeAzureBlobConfig) || !refersTo(c, "accountName", b, "accountName") {
				continue
			}
			on, _, err := props(c).key("isVersioningEnabled").boolean()
			if err != nil || on {
				return "", err
			}
		}
		return "has no blob versioning; add a BlobServiceProperties for it with isVersioningEnabled true", nil
	}
	return "", nil
}

func checkBucketPublicAccess(b Resource, all []Resource, _ StackInfo) (string, error) {
	switch {
	case b.is(typeS3BucketV2, typeS3Bucket):
		acl, _, err := props(b).key("acl").str()
		if err != nil {
			return "", err
		}
		if slices.Contains(publicACLs, acl) {
			return fmt.Sprintf("has the public ACL %q; remove it", acl), nil
		}
		for _, c := range companions(all, b, typeS3ACL) {
			if acl, _, err = props(c).key("acl").str(); err != nil {
				return "", err
			}
			if slices.Contains(publicACLs, acl) {
				return fmt.Sprintf("is given the public ACL %q by %s; remove it", acl, c.label()), nil
			}
		}
		for _, c := range companions(all, b, typeS3PublicBlock) {
			blocked := true
			for _, f := range []string{"blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"} {
				on, _, err := props(c).key(f).boolean()
				if err != nil {
					return "", err
				}
				blocked = blocked && on
			}
			if blocked {
				return "", nil
			}
		}
		return "has no BucketPublicAccessBlock with blockPublicAcls, blockPublicPolicy, ignorePublicAcls and restrictPublicBuckets all true; add one", nil
	case b.is(typeGCSBucket):
		var problems []string
		ubla, _, err := props(b).key("uniformBucketLevelAccess").boolean()
		if err != nil {
			return "", err
		}
		if !ubla {
			problems = append(problems, "set uniformBucketLevelAccess to true")
		}
		pap, _, err := props(b).key("publicAccessPrevention").str()
		if err != nil {
			return "", err
		}
		if pap != "enforced" {
			problems = append(problems, "set publicAccessPrevention to enforced")
		}
		for _, c := range all {
			if !c.is(typeGCSIAMMember, typeGCSIAMBinding) || !refersTo(c, "bucket", b, "name") {
				continue
			}
			member, _, err := props(c).key("member").str()
			if err != nil {
				return "", err
			}
			members, err := props(c).key("members").strings()
			if err != nil {
				return "", err
			}
			if slices.ContainsFunc(append(members, member), func(m string) bool { return slices.Contains(publicMembers, m) }) {
				problems = append(problems, "remove the allUsers/allAuthenticatedUsers grant in "+c.label())
			}
		}
		if len(problems) > 0 {
			return "may be made public; " + strings.Join(problems, ", "), nil
		}
	case b.is(typeAzureStorage):
		allow, set, err := props(b).key("allowBlobPublicAccess").boolean()
		if err != nil {
			return "", err
		}
		if !set || allow {
			return "allows anonymous blob access; set allowBlobPublicAccess to false", nil
		}
	}
	return "", nil
}

// geoRedundantSKUs are the Azure Storage SKUs that copy data to a second
// region.
var geoRedundantSKUs = []string{"Standard_GRS", "Standard_RAGRS", "Standard_GZRS", "Standard_RAGZRS"}

func checkBucketReplication(b Resource, all []Resource, stack StackInfo) (string, error) {
	if !stack.Production {
		return "", nil
	}
	switch {
	case b.is(typeS3BucketV2, typeS3Bucket):
		for _, inline := range []string{"replicationConfiguration", "replicationConfigurations"} {
			found, err := anyString(props(b).key(inline), func(s string) bool { return s == "Enabled" }, "rules", "status")
			if err != nil || found {
				return "", err
			}
		}
		for _, c := range companions(all, b, typeS3Replication) {
			found, err := anyString(props(c).key("rules"), func(s string) bool { return s == "Enabled" }, "status")
			if err != nil || found {
				return "", err
			}
		}
		return "is not replicated; add a BucketReplicationConfig with an Enabled rule to the backup region's bucket", nil
	case b.is(typeGCSBucket):
		loc, _, err := props(b).key("location").str()
		if err != nil {
			return "", err
		}
		// Regions are spelled with a dash (us-central1); multi-regions
		// (US, EU, ASIA) and predefined dual-regions (NAM4, EUR4) are not.
		regions, err := props(b).at("customPlacementConfig", "dataLocations").strings()
		if err != nil {
			return "", err
		}
		if loc == "" || (strings.Contains(loc, "-") && len(regions) < 2) {
			return fmt.Sprintf("lives in the single region %q; use a multi-region or dual-region location", loc), nil
		}
	case b.is(typeAzureStorage):
		sku, _, err := props(b).at("sku", "name").str()
		if err != nil {
			return "", err
		}
		if !slices.Contains(geoRedundantSKUs, sku) {
			return fmt.Sprintf("uses SKU %q, which keeps data in one region; use Standard_GZRS or Standard_RAGRS", sku), nil
		}
	}
	return "", nil
}
