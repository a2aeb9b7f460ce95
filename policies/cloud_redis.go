package policies

import "fmt"

// Managed Redis type tokens.
const (
	typeElastiCache = "aws:elasticache/replicationGroup:ReplicationGroup"
	typeMemorystore = "gcp:redis/instance:Instance"
	typeAzureRedis  = "azure-native:cache:Redis"
)

// redisTypes are the managed Redis resources the redis rules judge.
var redisTypes = []string{typeElastiCache, typeMemorystore, typeAzureRedis}

func checkRedisTLS(r Resource, _ StackInfo) (string, error) {
	p := props(r)
	switch {
	case r.is(typeElastiCache):
		on, _, err := p.key("transitEncryptionEnabled").boolean()
		if err != nil {
			return "", err
		}
		mode, modeSet, err := p.key("transitEncryptionMode").str()
		if err != nil {
			return "", err
		}
		if !on || (modeSet && mode != "required") {
			return "accepts plaintext connections; set transitEncryptionEnabled to true (transitEncryptionMode required)", nil
		}
	case r.is(typeMemorystore):
		mode, _, err := p.key("transitEncryptionMode").str()
		if err != nil {
			return "", err
		}
		if mode != "SERVER_AUTHENTICATION" {
			return "accepts plaintext connections; set transitEncryptionMode to SERVER_AUTHENTICATION", nil
		}
	case r.is(typeAzureRedis):
		plain, _, err := p.key("enableNonSslPort").boolean()
		if err != nil {
			return "", err
		}
		tls, _, err := p.key("minimumTlsVersion").str()
		if err != nil {
			return "", err
		}
		if plain || tls != "1.2" {
			return "allows plaintext or old-TLS connections; set enableNonSslPort to false and minimumTlsVersion to 1.2", nil
		}
	}
	return "", nil
}

func checkRedisAuth(r Resource, _ StackInfo) (string, error) {
	p := props(r)
	switch {
	case r.is(typeElastiCache):
		token, err := p.key("authToken").isSet()
		if err != nil {
			return "", err
		}
		groups, err := p.key("userGroupIds").items()
		if err != nil {
			return "", err
		}
		if !token && len(groups) == 0 {
			return "lets any client in its network connect without a password; set authToken from a Pulumi secret (or userGroupIds for RBAC)", nil
		}
	case r.is(typeMemorystore):
		on, _, err := p.key("authEnabled").boolean()
		if err != nil {
			return "", err
		}
		if !on {
			return "lets any client in its network connect without a password; set authEnabled to true", nil
		}
	case r.is(typeAzureRedis):
		off, _, err := p.at("redisConfiguration", "authnotrequired").str()
		if err != nil {
			return "", err
		}
		if off == "true" {
			return "has authentication turned off; remove redisConfiguration.authnotrequired", nil
		}
	}
	return "", nil
}

func checkRedisAtRest(r Resource, _ StackInfo) (string, error) {
	if !r.is(typeElastiCache) {
		return "", nil // Memorystore and Azure Cache encrypt at rest always
	}
	on, _, err := props(r).key("atRestEncryptionEnabled").boolean()
	if err != nil || on {
		return "", err
	}
	return "stores data and snapshots unencrypted; set atRestEncryptionEnabled to true (with kmsKeyId for a customer key)", nil
}

func checkRedisPrivate(r Resource, _ StackInfo) (string, error) {
	p := props(r)
	switch {
	case r.is(typeElastiCache):
		subnets, err := p.key("subnetGroupName").isSet()
		if err != nil {
			return "", err
		}
		groups, err := p.key("securityGroupIds").items()
		if err != nil {
			return "", err
		}
		if !subnets || len(groups) == 0 {
			return "is placed in the default VPC or security group; set subnetGroupName to private subnets and securityGroupIds to a group admitting only the cluster", nil
		}
	case r.is(typeMemorystore):
		network, err := p.key("authorizedNetwork").isSet()
		if err != nil {
			return "", err
		}
		if !network {
			return "is attached to the project's default network; set authorizedNetwork to the cluster's VPC", nil
		}
	case r.is(typeAzureRedis):
		access, _, err := p.key("publicNetworkAccess").str()
		if err != nil {
			return "", err
		}
		if access != "Disabled" {
			return "has a public endpoint; set publicNetworkAccess to Disabled and reach it through a private endpoint", nil
		}
	}
	return "", nil
}

func checkRedisSnapshots(r Resource, stack StackInfo) (string, error) {
	if !stack.Production {
		return "", nil
	}
	p := props(r)
	switch {
	case r.is(typeElastiCache):
		days, _, err := p.key("snapshotRetentionLimit").integer()
		if err != nil {
			return "", err
		}
		if days < 1 {
			return fmt.Sprintf("keeps %d days of snapshots; set snapshotRetentionLimit to at least 1 (and a snapshotWindow)", days), nil
		}
	case r.is(typeMemorystore):
		mode, _, err := p.at("persistenceConfig", "persistenceMode").str()
		if err != nil {
			return "", err
		}
		if mode != "RDB" {
			return "takes no snapshots; set persistenceConfig.persistenceMode to RDB with an rdbSnapshotPeriod", nil
		}
	case r.is(typeAzureRedis):
		on, _, err := p.at("redisConfiguration", "rdbBackupEnabled").str()
		if err != nil {
			return "", err
		}
		if on != "true" {
			return "takes no snapshots; set redisConfiguration.rdbBackupEnabled to \"true\" (Premium SKU) with a storage connection string", nil
		}
	}
	return "", nil
}
