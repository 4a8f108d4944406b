# fish completion for kmscli.
# Generated from the click command tree by `python tools/docgen.py --write`: do not edit.
# Install: copy it to ~/.config/fish/completions/kmscli.fish.

set -g __kmscli_global_valued --home --region --as --profile --backend --endpoint-url
set -g __kmscli_line

# The facts of command path $argv: its subcommands, its own options that take a value
# and its positional arguments (KIND, ... when it repeats).
function __kmscli_spec
    set -g __kmscli_commands
    set -g __kmscli_valued
    set -g __kmscli_arguments
    switch "$argv"
        case ''
            set -g __kmscli_commands alias audit datakey decrypt encrypt inspect key keyring mac policy principal random reencrypt serve sign verify
        case 'alias'
            set -g __kmscli_commands create delete list update
        case 'alias create'
            set -g __kmscli_arguments none key
        case 'alias delete'
            set -g __kmscli_arguments alias
        case 'alias list'
            set -g __kmscli_valued --key
        case 'alias update'
            set -g __kmscli_arguments alias key
        case 'audit'
            set -g __kmscli_valued --key --since
        case 'datakey'
            set -g __kmscli_commands decrypt generate pair
        case 'datakey decrypt'
            set -g __kmscli_valued -c --context -k --key -o --output --grant-token
            set -g __kmscli_arguments file
        case 'datakey generate'
            set -g __kmscli_valued -k --key --key-spec --bytes -c --context --ciphertext-out --plaintext-out --grant-token
        case 'datakey pair'
            set -g __kmscli_valued -k --key --key-pair-spec -c --context --ciphertext-out --private-key-out --public-key-out --grant-token
        case 'decrypt'
            set -g __kmscli_valued -k --key -o --output -c --context --suffix --commitment-policy --max-encrypted-data-keys --max-frame-length --encryption-algorithm --grant-token --cache-max-age --cache-max-messages --cache-max-bytes
            set -g __kmscli_arguments file...
        case 'encrypt'
            set -g __kmscli_valued -k --key -o --output -c --context --suffix --frame-size --algorithm --encryption-algorithm --grant-token --cache-max-age --cache-max-messages --cache-max-bytes
            set -g __kmscli_arguments file...
        case 'inspect'
            set -g __kmscli_valued --max-encrypted-data-keys
            set -g __kmscli_arguments file
        case 'key'
            set -g __kmscli_commands cancel-deletion create delete-material derive-shared-secret describe disable enable import-material import-parameters list public-key replicate rotate rotation schedule-deletion tag tags untag update-description update-primary-region
        case 'key cancel-deletion'
            set -g __kmscli_arguments key
        case 'key create'
            set -g __kmscli_valued --description --key-spec --key-usage --origin --policy --tag --alias
        case 'key delete-material'
            set -g __kmscli_valued --key-material-id
            set -g __kmscli_arguments key
        case 'key derive-shared-secret'
            set -g __kmscli_valued --public-key --algorithm -o --output --grant-token
            set -g __kmscli_arguments key
        case 'key describe'
            set -g __kmscli_valued --grant-token
            set -g __kmscli_arguments key
        case 'key disable'
            set -g __kmscli_arguments key
        case 'key enable'
            set -g __kmscli_arguments key
        case 'key import-material'
            set -g __kmscli_valued --material --token --valid-to
            set -g __kmscli_arguments key
        case 'key import-parameters'
            set -g __kmscli_valued --wrapping-algorithm --wrapping-key-spec --out-dir
            set -g __kmscli_arguments key
        case 'key list'
        case 'key public-key'
            set -g __kmscli_valued -o --output --grant-token
            set -g __kmscli_arguments key
        case 'key replicate'
            set -g __kmscli_valued --replica-region --description --policy --tag
            set -g __kmscli_arguments key
        case 'key rotate'
            set -g __kmscli_arguments key
        case 'key rotation'
            set -g __kmscli_commands disable enable list status
        case 'key rotation disable'
            set -g __kmscli_arguments key
        case 'key rotation enable'
            set -g __kmscli_valued --period-days
            set -g __kmscli_arguments key
        case 'key rotation list'
            set -g __kmscli_valued --include-key-material --limit --marker
            set -g __kmscli_arguments key
        case 'key rotation status'
            set -g __kmscli_arguments key
        case 'key schedule-deletion'
            set -g __kmscli_valued --days
            set -g __kmscli_arguments key
        case 'key tag'
            set -g __kmscli_arguments key none...
        case 'key tags'
            set -g __kmscli_valued --limit --marker
            set -g __kmscli_arguments key
        case 'key untag'
            set -g __kmscli_arguments key none...
        case 'key update-description'
            set -g __kmscli_arguments key none
        case 'key update-primary-region'
            set -g __kmscli_arguments key none
        case 'keyring'
            set -g __kmscli_commands backup init restore status verify
        case 'keyring backup'
            set -g __kmscli_arguments file
        case 'keyring init'
            set -g __kmscli_valued --passphrase-file --account-id
        case 'keyring restore'
            set -g __kmscli_arguments file
        case 'keyring status'
        case 'keyring verify'
        case 'mac'
            set -g __kmscli_commands generate verify
        case 'mac generate'
            set -g __kmscli_valued -k --key --algorithm -o --output --grant-token
            set -g __kmscli_arguments file
        case 'mac verify'
            set -g __kmscli_valued -k --key --mac --algorithm --grant-token
            set -g __kmscli_arguments file
        case 'policy'
            set -g __kmscli_commands get grant identity list put simulate validate
        case 'policy get'
            set -g __kmscli_valued --policy-name
            set -g __kmscli_arguments key
        case 'policy grant'
            set -g __kmscli_commands create list list-retirable retire revoke
        case 'policy grant create'
            set -g __kmscli_valued --grantee --operations --retiring --context-equals --context-subset --name --grant-token
            set -g __kmscli_arguments key
        case 'policy grant list'
            set -g __kmscli_valued --grant-id --grantee --limit --marker
            set -g __kmscli_arguments key
        case 'policy grant list-retirable'
            set -g __kmscli_valued --limit --marker
            set -g __kmscli_arguments none
        case 'policy grant retire'
            set -g __kmscli_valued --token
            set -g __kmscli_arguments key none
        case 'policy grant revoke'
            set -g __kmscli_arguments key none
        case 'policy identity'
            set -g __kmscli_commands delete get list put
        case 'policy identity delete'
            set -g __kmscli_arguments none none
        case 'policy identity get'
            set -g __kmscli_arguments none none
        case 'policy identity list'
            set -g __kmscli_arguments none
        case 'policy identity put'
            set -g __kmscli_arguments none none file
        case 'policy list'
            set -g __kmscli_arguments key
        case 'policy put'
            set -g __kmscli_valued --policy-name
            set -g __kmscli_arguments key file
        case 'policy simulate'
            set -g __kmscli_valued --key --action -c --context --via-service --condition
        case 'policy validate'
            set -g __kmscli_arguments file
        case 'principal'
            set -g __kmscli_commands access-key
        case 'principal access-key'
            set -g __kmscli_commands create delete list
        case 'principal access-key create'
            set -g __kmscli_arguments none
        case 'principal access-key delete'
            set -g __kmscli_arguments none
        case 'principal access-key list'
            set -g __kmscli_valued --principal
        case 'random'
            set -g __kmscli_valued --bytes -o --output
        case 'reencrypt'
            set -g __kmscli_valued -k --key -c --context --new-context --source-key -o --output --commitment-policy --max-encrypted-data-keys --max-frame-length --grant-token
            set -g __kmscli_arguments file...
        case 'serve'
            set -g __kmscli_valued --host --port --max-connections --request-timeout
        case 'sign'
            set -g __kmscli_valued -k --key --algorithm --message-type -o --output --grant-token
            set -g __kmscli_arguments file
        case 'verify'
            set -g __kmscli_valued -k --key --signature --algorithm --message-type --grant-token
            set -g __kmscli_arguments file
    end
end

# Sets __kmscli_path (the command path before the cursor) and __kmscli_next (what the next
# positional argument is: command, a kind, or nothing while an option value is expected).
function __kmscli_state
    set -l line (commandline -cp)
    test "$line" = "$__kmscli_line"; and return 0
    set -g __kmscli_line $line
    set -g __kmscli_path
    set -g __kmscli_next
    set -l tokens (commandline -opc)
    set -e tokens[1]
    set -l positional 0
    set -l skip 0
    set -l ended 0
    __kmscli_spec ''
    for token in $tokens
        if test $skip = 1
            set skip 0
        else if test $ended = 0; and string match -qr -- '^-.' $token
            if test $token = --
                set ended 1
            else if contains -- $token $__kmscli_valued $__kmscli_global_valued
                set skip 1
            end
        else if test $positional = 0; and contains -- $token $__kmscli_commands
            set -a __kmscli_path $token
            __kmscli_spec "$__kmscli_path"
        else
            set positional (math $positional + 1)
        end
    end
    if test $skip = 1
        return 0
    else if set -q __kmscli_commands[1]
        set -g __kmscli_next command
    else if test $positional -lt (count $__kmscli_arguments)
        set -g __kmscli_next $__kmscli_arguments[(math $positional + 1)]
    else if string match -q -- '*...' "$__kmscli_arguments[-1]"
        set -g __kmscli_next $__kmscli_arguments[-1]
    end
    set -g __kmscli_next (string replace -r -- '\.\.\.$' '' "$__kmscli_next")
end

# True when the command path before the cursor is $argv[1] ('' for kmscli itself).
function __kmscli_at
    __kmscli_state
    test "$__kmscli_path" = "$argv[1]"
end

# True when the next positional argument is of kind $argv[1].
function __kmscli_arg
    __kmscli_state
    test "$__kmscli_next" = "$argv[1]"
end

# The key IDs and alias names of the current region, one a line, from kmscli's piped listings
# (a header line, then one record a line, its ID first); $argv[1]: key (IDs and aliases) or
# alias (aliases only). The --home, --region and --profile options of the command line are
# handed on: kmscli finds the keyring itself (options, environment, config.toml and its
# profiles), and a listing never creates one: a missing keyring offers nothing. Silent.
function __kmscli_keys
    set -l tokens (commandline -opc)
    set -l global
    for i in (seq (count $tokens))
        set -l next (math $i + 1)
        switch $tokens[$i]
            case --home --region --profile
                if set -q tokens[$next]
                    set -a global $tokens[$i] (string replace -r '^~' -- $HOME $tokens[$next])
                end
            case '--home=*' '--region=*' '--profile=*'
                set -l pair (string split -m 1 = -- $tokens[$i])
                set -a global $pair[1] (string replace -r '^~' -- $HOME $pair[2])
        end
    end
    set -l cur (commandline -ct)
    if string match -q -- 'alias/*' $cur; or string match -q -- "$cur*" alias/
        kmscli $global alias list </dev/null 2>/dev/null | tail -n +2 | cut -f1
    end
    if test "$argv[1]" = key; and not string match -q -- 'alias/*' $cur
        kmscli $global key list </dev/null 2>/dev/null | tail -n +2 | cut -f1
    end
end

# Nothing completes to file names unless an argument or an option value is a file.
complete -c kmscli -f

# Global options, accepted before the command and on every command.
complete -c kmscli -l home -r -f -a '(__fish_complete_directories)' -d 'Keyring directory [env KMSCLI_HOME].'
complete -c kmscli -l region -r -f -a 'us-east-1 us-east-2 us-west-1 us-west-2 af-south-1 ap-east-1 ap-east-2 ap-northeast-1 ap-northeast-2 ap-northeast-3 ap-south-1 ap-south-2 ap-southeast-1 ap-southeast-2 ap-southeast-3 ap-southeast-4 ap-southeast-5 ap-southeast-7 ca-central-1 ca-west-1 eu-central-1 eu-central-2 eu-north-1 eu-south-1 eu-south-2 eu-west-1 eu-west-2 eu-west-3 il-central-1 me-central-1 me-south-1 mx-central-1 sa-east-1' -d 'Region to act in [env KMSCLI_REGION, AWS_REGION; default us-east-1].'
complete -c kmscli -l as -r -f -d 'Caller identity for policy evaluation [env KMSCLI_PRINCIPAL].'
complete -c kmscli -l profile -r -f -d 'Settings from [profiles.NAME] of the configuration file [env KMSCLI_PROFILE].'
complete -c kmscli -l backend -r -f -a 'local aws' -d 'Where keys live: the local keyring or AWS KMS [env KMSCLI_BACKEND].'
complete -c kmscli -l endpoint-url -r -f -d 'AWS KMS endpoint for --backend aws [env AWS_ENDPOINT_URL_KMS].'
complete -c kmscli -l json -d 'Machine output on stdout.'
complete -c kmscli -s q -l quiet -d 'No progress or notices.'
complete -c kmscli -s v -l verbose -d 'Say what was done.'
complete -c kmscli -l no-progress -d 'Never show progress.'
complete -c kmscli -s h -l help -d 'Show this message and exit.'

# kmscli
complete -c kmscli -n '__kmscli_at ""' -a alias -d 'Name keys with aliases (alias/NAME), per region.'
complete -c kmscli -n '__kmscli_at ""' -a audit -d 'List the audit trail of every KMS operation, or verify that it is intact.'
complete -c kmscli -n '__kmscli_at ""' -a datakey -d 'Generate and decrypt data keys (GenerateDataKey, Decrypt).'
complete -c kmscli -n '__kmscli_at ""' -a decrypt -d 'Decrypt messages (or ciphertext blobs) from files or stdin.'
complete -c kmscli -n '__kmscli_at ""' -a encrypt -d 'Encrypt files (or stdin) into AWS Encryption SDK messages.'
complete -c kmscli -n '__kmscli_at ""' -a inspect -d 'Show a message\'s header (or a blob\'s key): no keyring needed.'
complete -c kmscli -n '__kmscli_at ""' -a key -d 'Create, describe and manage KMS keys.'
complete -c kmscli -n '__kmscli_at ""' -a keyring -d 'Create and inspect the keyring.'
complete -c kmscli -n '__kmscli_at ""' -a mac -d 'Generate and verify HMACs with HMAC KMS keys (GenerateMac, VerifyMac).'
complete -c kmscli -n '__kmscli_at ""' -a policy -d 'Key policies, identity policies and grants: who may do what with a key.'
complete -c kmscli -n '__kmscli_at ""' -a principal -d 'Credentials of the principals that call the keyring through kmscli serve.'
complete -c kmscli -n '__kmscli_at ""' -a random -d 'Random bytes from the CSPRNG (GenerateRandom), in Base64 or raw to a file.'
complete -c kmscli -n '__kmscli_at ""' -a reencrypt -d 'Put encrypted files (messages or ciphertext blobs) under another key (ReEncrypt).'
complete -c kmscli -n '__kmscli_at ""' -a serve -d 'Serve the keyring as an AWS KMS endpoint (JSON 1.1 protocol, SigV4).'
complete -c kmscli -n '__kmscli_at ""' -a sign -d 'Sign a file or stdin with an asymmetric SIGN_VERIFY key (Sign).'
complete -c kmscli -n '__kmscli_at ""' -a verify -d 'Verify a signature of a file or stdin with an asymmetric key (Verify).'
complete -c kmscli -n '__kmscli_at ""' -l version -d 'Show the version and exit.'

# kmscli alias
complete -c kmscli -n '__kmscli_at "alias"' -a create -d 'Point a new alias at a key (CreateAlias).'
complete -c kmscli -n '__kmscli_at "alias"' -a delete -d 'Delete an alias; the key is untouched (DeleteAlias).'
complete -c kmscli -n '__kmscli_at "alias"' -a list -d 'List the aliases of the current region (ListAliases).'
complete -c kmscli -n '__kmscli_at "alias"' -a update -d 'Point an existing alias at another key of the same type and usage (UpdateAlias).'

# kmscli alias create

# kmscli alias delete

# kmscli alias list
complete -c kmscli -n '__kmscli_at "alias list"' -l key -r -f -a '(__kmscli_keys key)' -d 'Only the aliases of this key (ID, ARN or alias).'

# kmscli alias update

# kmscli audit
complete -c kmscli -n '__kmscli_at "audit"' -l key -r -f -a '(__kmscli_keys key)' -d 'Only events about this key (ID, ARN or alias).'
complete -c kmscli -n '__kmscli_at "audit"' -l since -r -f -d 'Only events at or after this instant.'
complete -c kmscli -n '__kmscli_at "audit"' -l verify -d 'Check the MAC chain and its anchor instead of listing.'

# kmscli datakey
complete -c kmscli -n '__kmscli_at "datakey"' -a decrypt -d 'Decrypt a wrapped data key (Decrypt) and print it in Base64, or write it raw with -o.'
complete -c kmscli -n '__kmscli_at "datakey"' -a generate -d 'Generate a data key under a KMS key (GenerateDataKey).'
complete -c kmscli -n '__kmscli_at "datakey"' -a pair -d 'Generate a data key pair under a symmetric KMS key (GenerateDataKeyPair).'

# kmscli datakey decrypt
complete -c kmscli -n '__kmscli_at "datakey decrypt"' -s c -l context -r -f -d 'Encryption context pair (repeatable).'
complete -c kmscli -n '__kmscli_at "datakey decrypt"' -s k -l key -r -f -a '(__kmscli_keys key)' -d 'Require this key to have made the blob.'
complete -c kmscli -n '__kmscli_at "datakey decrypt"' -s o -l output -r -F -d 'Write the raw plaintext key to FILE (0600).'
complete -c kmscli -n '__kmscli_at "datakey decrypt"' -s f -l force -d 'Overwrite existing outputs.'
complete -c kmscli -n '__kmscli_at "datakey decrypt"' -l show-plaintext -d 'Allow a plaintext key on a terminal.'
complete -c kmscli -n '__kmscli_at "datakey decrypt"' -l grant-token -r -f -d 'A grant token from \'policy grant create\' (repeatable, at most 10).'

# kmscli datakey generate
complete -c kmscli -n '__kmscli_at "datakey generate"' -s k -l key -r -f -a '(__kmscli_keys key)' -d 'KMS key: key ID, key ARN, alias or alias ARN.'
complete -c kmscli -n '__kmscli_at "datakey generate"' -l key-spec -r -f -a 'AES_256 AES_128' -d 'Default AES_256.'
complete -c kmscli -n '__kmscli_at "datakey generate"' -l bytes -r -f -d 'Length in bytes instead of --key-spec.'
complete -c kmscli -n '__kmscli_at "datakey generate"' -s c -l context -r -f -d 'Encryption context pair (repeatable).'
complete -c kmscli -n '__kmscli_at "datakey generate"' -l no-plaintext -d 'GenerateDataKeyWithoutPlaintext.'
complete -c kmscli -n '__kmscli_at "datakey generate"' -l ciphertext-out -r -F -d 'Write the raw CiphertextBlob to FILE.'
complete -c kmscli -n '__kmscli_at "datakey generate"' -l plaintext-out -r -F -d 'Write the raw plaintext key to FILE (0600).'
complete -c kmscli -n '__kmscli_at "datakey generate"' -s f -l force -d 'Overwrite existing outputs.'
complete -c kmscli -n '__kmscli_at "datakey generate"' -l show-plaintext -d 'Allow a plaintext key on a terminal.'
complete -c kmscli -n '__kmscli_at "datakey generate"' -l grant-token -r -f -d 'A grant token from \'policy grant create\' (repeatable, at most 10).'

# kmscli datakey pair
complete -c kmscli -n '__kmscli_at "datakey pair"' -s k -l key -r -f -a '(__kmscli_keys key)' -d 'KMS key: key ID, key ARN, alias or alias ARN.'
complete -c kmscli -n '__kmscli_at "datakey pair"' -l key-pair-spec -r -f -d 'Key pair spec: RSA_2048, RSA_3072, RSA_4096, ECC_NIST_P256, ECC_NIST_P384, ECC_NIST_P521, ECC_SECG_P256K1 or ECC_NIST_EDWARDS25519.'
complete -c kmscli -n '__kmscli_at "datakey pair"' -s c -l context -r -f -d 'Encryption context pair (repeatable).'
complete -c kmscli -n '__kmscli_at "datakey pair"' -l no-plaintext -d 'GenerateDataKeyPairWithoutPlaintext.'
complete -c kmscli -n '__kmscli_at "datakey pair"' -l ciphertext-out -r -F -d 'Write the raw PrivateKeyCiphertextBlob to FILE.'
complete -c kmscli -n '__kmscli_at "datakey pair"' -l private-key-out -r -F -d 'Write the DER PKCS#8 private key to FILE (0600).'
complete -c kmscli -n '__kmscli_at "datakey pair"' -l public-key-out -r -F -d 'Write the DER public key to FILE.'
complete -c kmscli -n '__kmscli_at "datakey pair"' -s f -l force -d 'Overwrite existing outputs.'
complete -c kmscli -n '__kmscli_at "datakey pair"' -l show-plaintext -d 'Allow a plaintext key on a terminal.'
complete -c kmscli -n '__kmscli_at "datakey pair"' -l grant-token -r -f -d 'A grant token from \'policy grant create\' (repeatable, at most 10).'

# kmscli decrypt
complete -c kmscli -n '__kmscli_at "decrypt"' -s k -l key -r -f -a '(__kmscli_keys key)' -d 'KMS key (ID, ARN, alias or alias ARN); repeatable.'
complete -c kmscli -n '__kmscli_at "decrypt"' -s o -l output -r -F -d 'Output file, directory (several FILEs; DIR/ is made if missing), or - for stdout.'
complete -c kmscli -n '__kmscli_at "decrypt"' -s c -l context -r -f -d 'Encryption context pair (repeatable).'
complete -c kmscli -n '__kmscli_at "decrypt"' -l suffix -r -f -d 'Suffix of encrypted files.'
complete -c kmscli -n '__kmscli_at "decrypt"' -s f -l force -d 'Overwrite existing outputs.'
complete -c kmscli -n '__kmscli_at "decrypt"' -l commitment-policy -r -f -a 'require-encrypt-require-decrypt require-encrypt-allow-decrypt forbid-encrypt-allow-decrypt' -d 'Which algorithm suites may be read (the ESDK\'s policies).'
complete -c kmscli -n '__kmscli_at "decrypt"' -l max-encrypted-data-keys -r -f -d 'Refuse messages with more data keys than this.'
complete -c kmscli -n '__kmscli_at "decrypt"' -l max-frame-length -r -f -d 'Refuse messages whose frames (or non-framed body) are larger: each frame is held in memory twice while it is decrypted.'
complete -c kmscli -n '__kmscli_at "decrypt"' -l encryption-algorithm -r -f -a 'SYMMETRIC_DEFAULT RSAES_OAEP_SHA_1 RSAES_OAEP_SHA_256' -d 'With an RSA ENCRYPT_DECRYPT key: RSAES_OAEP_SHA_1 or RSAES_OAEP_SHA_256 (--direct only on encrypt; raw RSA ciphertext on decrypt).'
complete -c kmscli -n '__kmscli_at "decrypt"' -l grant-token -r -f -d 'A grant token from \'policy grant create\' (repeatable, at most 10).'
complete -c kmscli -n '__kmscli_at "decrypt"' -l cache-max-age -r -f -d 'Reuse data keys across the FILEs of this run for up to SECONDS (off by default).'
complete -c kmscli -n '__kmscli_at "decrypt"' -l cache-max-messages -r -f -d 'With --cache-max-age: at most N messages per data key (default 2**32).'
complete -c kmscli -n '__kmscli_at "decrypt"' -l cache-max-bytes -r -f -d 'With --cache-max-age: at most N message bytes per data key (default 2**63-1).'

# kmscli encrypt
complete -c kmscli -n '__kmscli_at "encrypt"' -s k -l key -r -f -a '(__kmscli_keys key)' -d 'KMS key (ID, ARN, alias or alias ARN); repeatable.'
complete -c kmscli -n '__kmscli_at "encrypt"' -s o -l output -r -F -d 'Output file, directory (several FILEs; DIR/ is made if missing), or - for stdout.'
complete -c kmscli -n '__kmscli_at "encrypt"' -s c -l context -r -f -d 'Encryption context pair (repeatable).'
complete -c kmscli -n '__kmscli_at "encrypt"' -l suffix -r -f -d 'Suffix of encrypted files.'
complete -c kmscli -n '__kmscli_at "encrypt"' -s f -l force -d 'Overwrite existing outputs.'
complete -c kmscli -n '__kmscli_at "encrypt"' -l frame-size -r -f -d 'Frame length in bytes, a multiple of 128 (default 262144); decrypt reads frames above 4 MiB only with --max-frame-length.'
complete -c kmscli -n '__kmscli_at "encrypt"' -l algorithm -r -f -a 'AES_256_GCM_HKDF_SHA512_COMMIT_KEY AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384' -d 'AES_256_GCM_HKDF_SHA512_COMMIT_KEY (0x0478, default) or AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384 (0x0578).'
complete -c kmscli -n '__kmscli_at "encrypt"' -l direct -d 'KMS Encrypt of at most 4096 bytes: a ciphertext blob.'
complete -c kmscli -n '__kmscli_at "encrypt"' -l encryption-algorithm -r -f -a 'SYMMETRIC_DEFAULT RSAES_OAEP_SHA_1 RSAES_OAEP_SHA_256' -d 'With an RSA ENCRYPT_DECRYPT key: RSAES_OAEP_SHA_1 or RSAES_OAEP_SHA_256 (--direct only on encrypt; raw RSA ciphertext on decrypt).'
complete -c kmscli -n '__kmscli_at "encrypt"' -l grant-token -r -f -d 'A grant token from \'policy grant create\' (repeatable, at most 10).'
complete -c kmscli -n '__kmscli_at "encrypt"' -l cache-max-age -r -f -d 'Reuse data keys across the FILEs of this run for up to SECONDS (off by default).'
complete -c kmscli -n '__kmscli_at "encrypt"' -l cache-max-messages -r -f -d 'With --cache-max-age: at most N messages per data key (default 2**32).'
complete -c kmscli -n '__kmscli_at "encrypt"' -l cache-max-bytes -r -f -d 'With --cache-max-age: at most N plaintext bytes per data key (default 2**63-1).'

# kmscli inspect
complete -c kmscli -n '__kmscli_at "inspect"' -l max-encrypted-data-keys -r -f -d 'Refuse messages with more data keys than this.'

# kmscli key
complete -c kmscli -n '__kmscli_at "key"' -a cancel-deletion -d 'Cancel a pending deletion (CancelKeyDeletion); the key comes back disabled.'
complete -c kmscli -n '__kmscli_at "key"' -a create -d 'Create a KMS key and print its key ID (CreateKey).'
complete -c kmscli -n '__kmscli_at "key"' -a delete-material -d 'Delete imported key material (DeleteImportedKeyMaterial); the key returns to PendingImport.'
complete -c kmscli -n '__kmscli_at "key"' -a derive-shared-secret -d 'Agree a shared secret with a KEY_AGREEMENT key and a peer\'s public key (DeriveSharedSecret).'
complete -c kmscli -n '__kmscli_at "key"' -a describe -d 'Show a key\'s metadata (DescribeKey).'
complete -c kmscli -n '__kmscli_at "key"' -a disable -d 'Disable a key (DisableKey): it can no longer encrypt or decrypt until enabled.'
complete -c kmscli -n '__kmscli_at "key"' -a enable -d 'Enable a key (EnableKey).'
complete -c kmscli -n '__kmscli_at "key"' -a import-material -d 'Import wrapped key material into an EXTERNAL key (ImportKeyMaterial).'
complete -c kmscli -n '__kmscli_at "key"' -a import-parameters -d 'Get a wrapping key and import token for importing key material (GetParametersForImport).'
complete -c kmscli -n '__kmscli_at "key"' -a list -d 'List the keys of the current region (ListKeys).'
complete -c kmscli -n '__kmscli_at "key"' -a public-key -d 'Get the public key of an asymmetric key (GetPublicKey).'
complete -c kmscli -n '__kmscli_at "key"' -a replicate -d 'Replicate a multi-Region primary key into another region (ReplicateKey).'
complete -c kmscli -n '__kmscli_at "key"' -a rotate -d 'Rotate a key now, whatever its schedule (RotateKeyOnDemand).'
complete -c kmscli -n '__kmscli_at "key"' -a rotation -d 'Automatic rotation of a key: turn it on or off, see when and what it rotated.'
complete -c kmscli -n '__kmscli_at "key"' -a schedule-deletion -d 'Schedule a key for deletion after a waiting period (ScheduleKeyDeletion).'
complete -c kmscli -n '__kmscli_at "key"' -a tag -d 'Add or overwrite tags on a key (TagResource).'
complete -c kmscli -n '__kmscli_at "key"' -a tags -d 'List a key\'s tags (ListResourceTags).'
complete -c kmscli -n '__kmscli_at "key"' -a untag -d 'Remove tags from a key by tag key (UntagResource).'
complete -c kmscli -n '__kmscli_at "key"' -a update-description -d 'Replace a key\'s description (UpdateKeyDescription).'
complete -c kmscli -n '__kmscli_at "key"' -a update-primary-region -d 'Make a replica of a multi-Region key its primary (UpdatePrimaryRegion).'

# kmscli key cancel-deletion

# kmscli key create
complete -c kmscli -n '__kmscli_at "key create"' -l description -r -f -d 'Description (≤ 8192 chars).'
complete -c kmscli -n '__kmscli_at "key create"' -l key-spec -r -f -a 'ECC_NIST_EDWARDS25519 ECC_NIST_P256 ECC_NIST_P384 ECC_NIST_P521 ECC_SECG_P256K1 HMAC_224 HMAC_256 HMAC_384 HMAC_512 ML_DSA_44 ML_DSA_65 ML_DSA_87 RSA_2048 RSA_3072 RSA_4096 SM2 SYMMETRIC_DEFAULT' -d 'Key spec.'
complete -c kmscli -n '__kmscli_at "key create"' -l key-usage -r -f -a 'ENCRYPT_DECRYPT GENERATE_VERIFY_MAC KEY_AGREEMENT SIGN_VERIFY' -d 'Key usage (default ENCRYPT_DECRYPT).'
complete -c kmscli -n '__kmscli_at "key create"' -l origin -r -f -a 'AWS_KMS EXTERNAL' -d 'Where the key material comes from.'
complete -c kmscli -n '__kmscli_at "key create"' -l multi-region -d 'Create a multi-Region primary key (mrk-...).'
complete -c kmscli -n '__kmscli_at "key create"' -l policy -r -F -d 'Key policy document (JSON).'
complete -c kmscli -n '__kmscli_at "key create"' -l tag -r -f -d 'Tag the key (repeatable).'
complete -c kmscli -n '__kmscli_at "key create"' -l alias -r -f -d 'Also create this alias for the key.'
complete -c kmscli -n '__kmscli_at "key create"' -l bypass-policy-lockout-safety-check -d 'Skip the check that you could still update the policy.'

# kmscli key delete-material
complete -c kmscli -n '__kmscli_at "key delete-material"' -l key-material-id -r -f -d 'Which material (default: the current one).'

# kmscli key derive-shared-secret
complete -c kmscli -n '__kmscli_at "key derive-shared-secret"' -l public-key -r -F -d 'The other party\'s public key: DER or PEM SubjectPublicKeyInfo on the key\'s curve.'
complete -c kmscli -n '__kmscli_at "key derive-shared-secret"' -l algorithm -r -f -d 'Key agreement algorithm.'
complete -c kmscli -n '__kmscli_at "key derive-shared-secret"' -s o -l output -r -F -d 'Write the raw shared secret to FILE (0600).'
complete -c kmscli -n '__kmscli_at "key derive-shared-secret"' -s f -l force -d 'Overwrite FILE.'
complete -c kmscli -n '__kmscli_at "key derive-shared-secret"' -l show-plaintext -d 'Allow the secret on a terminal.'
complete -c kmscli -n '__kmscli_at "key derive-shared-secret"' -l grant-token -r -f -d 'A grant token from \'policy grant create\' (repeatable, at most 10).'

# kmscli key describe
complete -c kmscli -n '__kmscli_at "key describe"' -l grant-token -r -f -d 'A grant token from \'policy grant create\' (repeatable, at most 10).'

# kmscli key disable

# kmscli key enable

# kmscli key import-material
complete -c kmscli -n '__kmscli_at "key import-material"' -l material -r -F -d 'Wrapped material.'
complete -c kmscli -n '__kmscli_at "key import-material"' -l token -r -F -d 'The import token.'
complete -c kmscli -n '__kmscli_at "key import-material"' -l valid-to -r -f -d 'When the material expires (≤ 365 days).'
complete -c kmscli -n '__kmscli_at "key import-material"' -l no-expiry -d 'The material never expires.'

# kmscli key import-parameters
complete -c kmscli -n '__kmscli_at "key import-parameters"' -l wrapping-algorithm -r -f -a 'RSAES_OAEP_SHA_256 RSAES_OAEP_SHA_1 RSA_AES_KEY_WRAP_SHA_256 RSA_AES_KEY_WRAP_SHA_1' -d 'How the material will be wrapped.'
complete -c kmscli -n '__kmscli_at "key import-parameters"' -l wrapping-key-spec -r -f -a 'RSA_2048 RSA_3072 RSA_4096' -d 'Size of the RSA wrapping key.'
complete -c kmscli -n '__kmscli_at "key import-parameters"' -l out-dir -r -f -a '(__fish_complete_directories)' -d 'Directory for PublicKey.bin (DER) and ImportToken.bin.'
complete -c kmscli -n '__kmscli_at "key import-parameters"' -s f -l force -d 'Overwrite existing files.'

# kmscli key list

# kmscli key public-key
complete -c kmscli -n '__kmscli_at "key public-key"' -s o -l output -r -F -d 'Write the public key to FILE.'
complete -c kmscli -n '__kmscli_at "key public-key"' -l pem -d 'PEM instead of DER.'
complete -c kmscli -n '__kmscli_at "key public-key"' -s f -l force -d 'Overwrite FILE.'
complete -c kmscli -n '__kmscli_at "key public-key"' -l grant-token -r -f -d 'A grant token from \'policy grant create\' (repeatable, at most 10).'

# kmscli key replicate
complete -c kmscli -n '__kmscli_at "key replicate"' -l replica-region -r -f -a 'us-east-1 us-east-2 us-west-1 us-west-2 af-south-1 ap-east-1 ap-east-2 ap-northeast-1 ap-northeast-2 ap-northeast-3 ap-south-1 ap-south-2 ap-southeast-1 ap-southeast-2 ap-southeast-3 ap-southeast-4 ap-southeast-5 ap-southeast-7 ca-central-1 ca-west-1 eu-central-1 eu-central-2 eu-north-1 eu-south-1 eu-south-2 eu-west-1 eu-west-2 eu-west-3 il-central-1 me-central-1 me-south-1 mx-central-1 sa-east-1' -d 'Region of the new replica.'
complete -c kmscli -n '__kmscli_at "key replicate"' -l description -r -f -d 'The replica\'s description.'
complete -c kmscli -n '__kmscli_at "key replicate"' -l policy -r -F -d 'The replica\'s key policy (JSON).'
complete -c kmscli -n '__kmscli_at "key replicate"' -l tag -r -f -d 'Tag the replica (repeatable).'
complete -c kmscli -n '__kmscli_at "key replicate"' -l bypass-policy-lockout-safety-check -d 'Skip the check that you could still update the replica\'s policy.'

# kmscli key rotate

# kmscli key rotation
complete -c kmscli -n '__kmscli_at "key rotation"' -a disable -d 'Turn off automatic rotation (DisableKeyRotation).'
complete -c kmscli -n '__kmscli_at "key rotation"' -a enable -d 'Turn on automatic rotation, or change its period (EnableKeyRotation).'
complete -c kmscli -n '__kmscli_at "key rotation"' -a list -d 'List a key\'s rotations: each material, its state and when it came (ListKeyRotations).'
complete -c kmscli -n '__kmscli_at "key rotation"' -a status -d 'Show whether a key rotates automatically, how often and when next (GetKeyRotationStatus).'

# kmscli key rotation disable

# kmscli key rotation enable
complete -c kmscli -n '__kmscli_at "key rotation enable"' -l period-days -r -f -d 'Days between rotations, 90..2560 (default 365).'

# kmscli key rotation list
complete -c kmscli -n '__kmscli_at "key rotation list"' -l include-key-material -r -f -a 'ROTATIONS_ONLY ALL_KEY_MATERIAL' -d 'ALL_KEY_MATERIAL also lists the original material.'
complete -c kmscli -n '__kmscli_at "key rotation list"' -l limit -r -f -d 'At most N entries (1..1000, default 100).'
complete -c kmscli -n '__kmscli_at "key rotation list"' -l marker -r -f -d 'Continue after a truncated list (its NextMarker).'

# kmscli key rotation status

# kmscli key schedule-deletion
complete -c kmscli -n '__kmscli_at "key schedule-deletion"' -l days -r -f -d 'Waiting period in days before the key is destroyed (default 30).'
complete -c kmscli -n '__kmscli_at "key schedule-deletion"' -l yes -d 'Do not ask; required when stdin is not a terminal.'

# kmscli key tag

# kmscli key tags
complete -c kmscli -n '__kmscli_at "key tags"' -l limit -r -f -d 'At most N tags (1..50, default 50).'
complete -c kmscli -n '__kmscli_at "key tags"' -l marker -r -f -d 'Continue after a truncated list (its NextMarker).'

# kmscli key untag

# kmscli key update-description

# kmscli key update-primary-region

# kmscli keyring
complete -c kmscli -n '__kmscli_at "keyring"' -a backup -d 'Write the whole keyring to one encrypted archive FILE (\'-\': stdout).'
complete -c kmscli -n '__kmscli_at "keyring"' -a init -d 'Create a keyring (only key create and encrypt also create one, on first use).'
complete -c kmscli -n '__kmscli_at "keyring"' -a restore -d 'Restore the keyring of a backup archive FILE (\'-\': stdin) into --home.'
complete -c kmscli -n '__kmscli_at "keyring"' -a status -d 'Show where the keyring is, its account, protection, regions and schema version.'
complete -c kmscli -n '__kmscli_at "keyring"' -a verify -d 'Check every file of the keyring and the audit trail, and report each problem found.'

# kmscli keyring backup
complete -c kmscli -n '__kmscli_at "keyring backup"' -s f -l force -d 'Overwrite an existing FILE.'

# kmscli keyring init
complete -c kmscli -n '__kmscli_at "keyring init"' -l passphrase -d 'Protect the root key with a passphrase (KMSCLI_PASSPHRASE or a prompt).'
complete -c kmscli -n '__kmscli_at "keyring init"' -l passphrase-file -r -F -d 'Read the new passphrase from FILE.'
complete -c kmscli -n '__kmscli_at "keyring init"' -l account-id -r -f -d 'Account ID (default: random).'

# kmscli keyring restore
complete -c kmscli -n '__kmscli_at "keyring restore"' -s f -l force -d 'Replace the keyring at --home if there is one.'

# kmscli keyring status

# kmscli keyring verify

# kmscli mac
complete -c kmscli -n '__kmscli_at "mac"' -a generate -d 'Compute the HMAC of a message with an HMAC KMS key (GenerateMac).'
complete -c kmscli -n '__kmscli_at "mac"' -a verify -d 'Check the HMAC of a message with an HMAC KMS key (VerifyMac).'

# kmscli mac generate
complete -c kmscli -n '__kmscli_at "mac generate"' -s k -l key -r -f -a '(__kmscli_keys key)' -d 'KMS key: key ID, key ARN, alias or alias ARN.'
complete -c kmscli -n '__kmscli_at "mac generate"' -l algorithm -r -f -d 'HMAC_SHA_224|256|384|512: the key spec\'s one (default).'
complete -c kmscli -n '__kmscli_at "mac generate"' -s o -l output -r -F -d 'Write the MAC to MACFILE (- for stdout, even a terminal).'
complete -c kmscli -n '__kmscli_at "mac generate"' -l base64 -d 'Write the value as one line of Base64 text instead of raw bytes.'
complete -c kmscli -n '__kmscli_at "mac generate"' -s f -l force -d 'Overwrite existing outputs.'
complete -c kmscli -n '__kmscli_at "mac generate"' -l grant-token -r -f -d 'A grant token from \'policy grant create\' (repeatable, at most 10).'

# kmscli mac verify
complete -c kmscli -n '__kmscli_at "mac verify"' -s k -l key -r -f -a '(__kmscli_keys key)' -d 'KMS key: key ID, key ARN, alias or alias ARN.'
complete -c kmscli -n '__kmscli_at "mac verify"' -l mac -r -F -d 'The MAC: raw bytes, or Base64 text (\'mac generate --base64\').'
complete -c kmscli -n '__kmscli_at "mac verify"' -l algorithm -r -f -d 'HMAC_SHA_224|256|384|512: the key spec\'s one (default).'
complete -c kmscli -n '__kmscli_at "mac verify"' -l grant-token -r -f -d 'A grant token from \'policy grant create\' (repeatable, at most 10).'

# kmscli policy
complete -c kmscli -n '__kmscli_at "policy"' -a get -d 'Print a key\'s policy document (GetKeyPolicy).'
complete -c kmscli -n '__kmscli_at "policy"' -a grant -d 'Grant, list, retire and revoke grants on keys (CreateGrant, ListGrants, ...).'
complete -c kmscli -n '__kmscli_at "policy"' -a identity -d 'Attach IAM-style identity policies to users and roles of the keyring\'s accounts.'
complete -c kmscli -n '__kmscli_at "policy"' -a list -d 'List the names of a key\'s policies; there is one, default (ListKeyPolicies).'
complete -c kmscli -n '__kmscli_at "policy"' -a put -d 'Replace a key\'s policy with the document in FILE, or stdin for - (PutKeyPolicy).'
complete -c kmscli -n '__kmscli_at "policy"' -a simulate -d 'Show whether the caller (--as) may perform an action, and why, without performing it.'
complete -c kmscli -n '__kmscli_at "policy"' -a validate -d 'Check a policy document offline and warn about risky patterns.'

# kmscli policy get
complete -c kmscli -n '__kmscli_at "policy get"' -l policy-name -r -f -d 'The only one is default.'

# kmscli policy grant
complete -c kmscli -n '__kmscli_at "policy grant"' -a create -d 'Create a grant on a key and print its grant ID (CreateGrant).'
complete -c kmscli -n '__kmscli_at "policy grant"' -a list -d 'List the grants on a key (ListGrants).'
complete -c kmscli -n '__kmscli_at "policy grant"' -a list-retirable -d 'List the grants that PRINCIPAL may retire (ListRetirableGrants).'
complete -c kmscli -n '__kmscli_at "policy grant"' -a retire -d 'Retire a grant, by its token or by key ARN and grant ID (RetireGrant).'
complete -c kmscli -n '__kmscli_at "policy grant"' -a revoke -d 'Revoke a grant (RevokeGrant): needs kms:RevokeGrant on the key.'

# kmscli policy grant create
complete -c kmscli -n '__kmscli_at "policy grant create"' -l grantee -r -f -d 'Grantee principal ARN.'
complete -c kmscli -n '__kmscli_at "policy grant create"' -l operations -r -f -d 'Operations the grant allows, e.g. Encrypt,Decrypt,GenerateDataKey.'
complete -c kmscli -n '__kmscli_at "policy grant create"' -l retiring -r -f -d 'Principal that may retire the grant.'
complete -c kmscli -n '__kmscli_at "policy grant create"' -l context-equals -r -f -d 'Only for requests whose encryption context is exactly these pairs.'
complete -c kmscli -n '__kmscli_at "policy grant create"' -l context-subset -r -f -d 'Only for requests whose encryption context contains these pairs.'
complete -c kmscli -n '__kmscli_at "policy grant create"' -l name -r -f -d 'Grant name: a retry with the same name and parameters returns the same grant.'
complete -c kmscli -n '__kmscli_at "policy grant create"' -l grant-token -r -f -d 'A grant token from \'policy grant create\' (repeatable, at most 10).'

# kmscli policy grant list
complete -c kmscli -n '__kmscli_at "policy grant list"' -l grant-id -r -f -d 'Only this grant.'
complete -c kmscli -n '__kmscli_at "policy grant list"' -l grantee -r -f -d 'Only grants to this grantee.'
complete -c kmscli -n '__kmscli_at "policy grant list"' -l limit -r -f -d 'At most this many grants (one page).'
complete -c kmscli -n '__kmscli_at "policy grant list"' -l marker -r -f -d 'NextMarker of the previous page.'

# kmscli policy grant list-retirable
complete -c kmscli -n '__kmscli_at "policy grant list-retirable"' -l limit -r -f -d 'At most this many grants (one page).'
complete -c kmscli -n '__kmscli_at "policy grant list-retirable"' -l marker -r -f -d 'NextMarker of the previous page.'

# kmscli policy grant retire
complete -c kmscli -n '__kmscli_at "policy grant retire"' -l token -r -f -d 'The grant token of the grant to retire.'

# kmscli policy grant revoke

# kmscli policy identity
complete -c kmscli -n '__kmscli_at "policy identity"' -a delete -d 'Remove an inline identity policy from a user or role (DeleteUserPolicy).'
complete -c kmscli -n '__kmscli_at "policy identity"' -a get -d 'Print one inline identity policy of a user or role (GetUserPolicy / GetRolePolicy).'
complete -c kmscli -n '__kmscli_at "policy identity"' -a list -d 'List the names of a user\'s or role\'s inline identity policies (ListUserPolicies).'
complete -c kmscli -n '__kmscli_at "policy identity"' -a put -d 'Attach or replace an inline identity policy (PutUserPolicy / PutRolePolicy).'

# kmscli policy identity delete

# kmscli policy identity get

# kmscli policy identity list

# kmscli policy identity put

# kmscli policy list

# kmscli policy put
complete -c kmscli -n '__kmscli_at "policy put"' -l policy-name -r -f -d 'The only one is default.'
complete -c kmscli -n '__kmscli_at "policy put"' -l bypass-policy-lockout-safety-check -d 'Skip the check that you could still update the policy.'

# kmscli policy simulate
complete -c kmscli -n '__kmscli_at "policy simulate"' -l key -r -f -a '(__kmscli_keys key)' -d 'The key (ID, ARN, alias or alias ARN).'
complete -c kmscli -n '__kmscli_at "policy simulate"' -l action -r -f -d 'The permission to test.'
complete -c kmscli -n '__kmscli_at "policy simulate"' -s c -l context -r -f -d 'Encryption context of the request (repeatable).'
complete -c kmscli -n '__kmscli_at "policy simulate"' -l via-service -r -f -d 'kms:ViaService of the request, e.g. ec2.us-east-1.amazonaws.com.'
complete -c kmscli -n '__kmscli_at "policy simulate"' -l condition -r -f -d 'Any other condition key of the request, e.g. kms:GrantOperations=Decrypt (repeatable; repeating a key makes a list).'

# kmscli policy validate
complete -c kmscli -n '__kmscli_at "policy validate"' -l identity -d 'Check an identity (IAM) policy instead of a key policy.'

# kmscli principal
complete -c kmscli -n '__kmscli_at "principal"' -a access-key -d 'Create, list and delete the access keys kmscli serve accepts.'

# kmscli principal access-key
complete -c kmscli -n '__kmscli_at "principal access-key"' -a create -d 'Create an access key that signs requests as PRINCIPAL (like IAM CreateAccessKey).'
complete -c kmscli -n '__kmscli_at "principal access-key"' -a delete -d 'Delete an access key: requests signed with it are refused from now on.'
complete -c kmscli -n '__kmscli_at "principal access-key"' -a list -d 'List access keys and the principals they sign for; never their secrets.'

# kmscli principal access-key create

# kmscli principal access-key delete

# kmscli principal access-key list
complete -c kmscli -n '__kmscli_at "principal access-key list"' -l principal -r -f -d 'Only this principal\'s.'

# kmscli random
complete -c kmscli -n '__kmscli_at "random"' -l bytes -r -f -d 'How many random bytes (required).'
complete -c kmscli -n '__kmscli_at "random"' -s o -l output -r -F -d 'Write the raw bytes to FILE (0600).'
complete -c kmscli -n '__kmscli_at "random"' -s f -l force -d 'Overwrite existing outputs.'

# kmscli reencrypt
complete -c kmscli -n '__kmscli_at "reencrypt"' -s k -l key -r -f -a '(__kmscli_keys key)' -d 'Key to put the data under (ID, ARN, alias); repeatable for messages.'
complete -c kmscli -n '__kmscli_at "reencrypt"' -s c -l context -r -f -d 'Messages: pairs their context must hold. Blobs: their exact context.'
complete -c kmscli -n '__kmscli_at "reencrypt"' -l new-context -r -f -d 'Blobs: the context of the new blob (default: the same as -c).'
complete -c kmscli -n '__kmscli_at "reencrypt"' -l source-key -r -f -a '(__kmscli_keys key)' -d 'Only this key may decrypt the input (strict, like decrypt -k); repeatable.'
complete -c kmscli -n '__kmscli_at "reencrypt"' -s o -l output -r -F -d 'Output file or directory (DIR/ is made if missing); - for stdout.'
complete -c kmscli -n '__kmscli_at "reencrypt"' -s f -l force -d 'Overwrite an existing -o output; in place, re-encrypt a file that has other hard links.'
complete -c kmscli -n '__kmscli_at "reencrypt"' -l header-only -d 'Unsigned messages: rewrite only the header and copy the body (fast; see the caveat).'
complete -c kmscli -n '__kmscli_at "reencrypt"' -l commitment-policy -r -f -a 'require-encrypt-require-decrypt require-encrypt-allow-decrypt forbid-encrypt-allow-decrypt' -d 'Which algorithm suites may be read (the ESDK\'s policies).'
complete -c kmscli -n '__kmscli_at "reencrypt"' -l max-encrypted-data-keys -r -f -d 'Refuse messages with more data keys than this.'
complete -c kmscli -n '__kmscli_at "reencrypt"' -l max-frame-length -r -f -d 'Refuse messages whose frames (or non-framed body) are larger: each frame is held in memory twice while it is decrypted.'
complete -c kmscli -n '__kmscli_at "reencrypt"' -l grant-token -r -f -d 'A grant token from \'policy grant create\' (repeatable, at most 10).'

# kmscli serve
complete -c kmscli -n '__kmscli_at "serve"' -l host -r -f -d 'Address to listen on; anything but loopback is warned about.'
complete -c kmscli -n '__kmscli_at "serve"' -l port -r -f -d 'Port to listen on; 0 picks a free one (the URL printed says which).'
complete -c kmscli -n '__kmscli_at "serve"' -l max-connections -r -f -d 'Connections served at once; past it, a new connection takes the slot of one waiting for a request, or waits a second for a busy slot and is answered 503.'
complete -c kmscli -n '__kmscli_at "serve"' -l request-timeout -r -f -d 'Time a request has, from its first byte, to arrive whole (headers and body).'

# kmscli sign
complete -c kmscli -n '__kmscli_at "sign"' -s k -l key -r -f -a '(__kmscli_keys key)' -d 'KMS key: key ID, key ARN, alias or alias ARN.'
complete -c kmscli -n '__kmscli_at "sign"' -l algorithm -r -f -d 'Signing algorithm (default: the key\'s first, e.g. RSASSA_PKCS1_V1_5_SHA_256, ECDSA_SHA_256, ED25519_SHA_512, ML_DSA_SHAKE_256).'
complete -c kmscli -n '__kmscli_at "sign"' -l message-type -r -f -a 'RAW DIGEST EXTERNAL_MU' -d 'What FILE holds: the message (RAW, default), its digest (DIGEST) or an ML-DSA μ (EXTERNAL_MU). RAW messages over 4096 bytes are hashed locally and sent as DIGEST.'
complete -c kmscli -n '__kmscli_at "sign"' -s o -l output -r -F -d 'Write the signature to SIGFILE (- for stdout, even a terminal).'
complete -c kmscli -n '__kmscli_at "sign"' -l base64 -d 'Write the value as one line of Base64 text instead of raw bytes.'
complete -c kmscli -n '__kmscli_at "sign"' -s f -l force -d 'Overwrite existing outputs.'
complete -c kmscli -n '__kmscli_at "sign"' -l grant-token -r -f -d 'A grant token from \'policy grant create\' (repeatable, at most 10).'

# kmscli verify
complete -c kmscli -n '__kmscli_at "verify"' -s k -l key -r -f -a '(__kmscli_keys key)' -d 'KMS key: key ID, key ARN, alias or alias ARN.'
complete -c kmscli -n '__kmscli_at "verify"' -l signature -r -F -d 'The signature: raw bytes, or Base64 text (\'kmscli sign --base64\').'
complete -c kmscli -n '__kmscli_at "verify"' -l algorithm -r -f -d 'Signing algorithm (default: the key\'s first, e.g. RSASSA_PKCS1_V1_5_SHA_256, ECDSA_SHA_256, ED25519_SHA_512, ML_DSA_SHAKE_256).'
complete -c kmscli -n '__kmscli_at "verify"' -l message-type -r -f -a 'RAW DIGEST EXTERNAL_MU' -d 'What FILE holds: the message (RAW, default), its digest (DIGEST) or an ML-DSA μ (EXTERNAL_MU). RAW messages over 4096 bytes are hashed locally and sent as DIGEST.'
complete -c kmscli -n '__kmscli_at "verify"' -l grant-token -r -f -d 'A grant token from \'policy grant create\' (repeatable, at most 10).'

# Positional arguments, by kind.
complete -c kmscli -n '__kmscli_arg alias' -f -a '(__kmscli_keys alias)'
complete -c kmscli -n '__kmscli_arg file' -F
complete -c kmscli -n '__kmscli_arg key' -f -a '(__kmscli_keys key)'
