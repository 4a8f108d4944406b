# bash completion for kmscli                                     -*- shell-script -*-
# Generated from the click command tree by `python tools/docgen.py --write`: do not edit.
# Install: source it from ~/.bashrc, or copy it to
# ~/.local/share/bash-completion/completions/kmscli (bash-completion loads it).

_kmscli_backend='local aws'
_kmscli_datakey_generate_key_spec='AES_256 AES_128'
_kmscli_decrypt_commitment_policy='require-encrypt-require-decrypt require-encrypt-allow-decrypt forbid-encrypt-allow-decrypt'
_kmscli_decrypt_encryption_algorithm='SYMMETRIC_DEFAULT RSAES_OAEP_SHA_1 RSAES_OAEP_SHA_256'
_kmscli_encrypt_encryption_algorithm='SYMMETRIC_DEFAULT RSAES_OAEP_SHA_1 RSAES_OAEP_SHA_256'
_kmscli_key_create_origin='AWS_KMS EXTERNAL'
_kmscli_key_import_parameters_wrapping_algorithm='RSAES_OAEP_SHA_256 RSAES_OAEP_SHA_1 RSA_AES_KEY_WRAP_SHA_256 RSA_AES_KEY_WRAP_SHA_1'
_kmscli_key_import_parameters_wrapping_key_spec='RSA_2048 RSA_3072 RSA_4096'
_kmscli_key_rotation_list_include_key_material='ROTATIONS_ONLY ALL_KEY_MATERIAL'
_kmscli_key_specs='ECC_NIST_EDWARDS25519 ECC_NIST_P256 ECC_NIST_P384 ECC_NIST_P521 ECC_SECG_P256K1 HMAC_224 HMAC_256 HMAC_384 HMAC_512 ML_DSA_44 ML_DSA_65 ML_DSA_87 RSA_2048 RSA_3072 RSA_4096 SM2 SYMMETRIC_DEFAULT'
_kmscli_key_usages='ENCRYPT_DECRYPT GENERATE_VERIFY_MAC KEY_AGREEMENT SIGN_VERIFY'
_kmscli_reencrypt_commitment_policy='require-encrypt-require-decrypt require-encrypt-allow-decrypt forbid-encrypt-allow-decrypt'
_kmscli_regions='us-east-1 us-east-2 us-west-1 us-west-2 af-south-1 ap-east-1 ap-east-2 ap-northeast-1 ap-northeast-2 ap-northeast-3 ap-south-1 ap-south-2 ap-southeast-1 ap-southeast-2 ap-southeast-3 ap-southeast-4 ap-southeast-5 ap-southeast-7 ca-central-1 ca-west-1 eu-central-1 eu-central-2 eu-north-1 eu-south-1 eu-south-2 eu-west-1 eu-west-2 eu-west-3 il-central-1 me-central-1 me-south-1 mx-central-1 sa-east-1'
_kmscli_sign_message_type='RAW DIGEST EXTERNAL_MU'
_kmscli_suites='AES_256_GCM_HKDF_SHA512_COMMIT_KEY AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384'
_kmscli_verify_message_type='RAW DIGEST EXTERNAL_MU'
_kmscli_global_options='--home --region --as --profile --backend --endpoint-url --json -q --quiet -v --verbose --no-progress -h --help'
_kmscli_global_valued='--home=dir --region=regions --as=none --profile=none --backend=backend --endpoint-url=none'

# The facts of command path $1: its subcommands, its own options, those of them that
# take a value (NAME=KIND) and its positional arguments (KIND, ... when it repeats).
_kmscli_spec() {
    _kmscli_commands= _kmscli_options= _kmscli_valued= _kmscli_arguments=
    case $1 in
    '')
        _kmscli_commands='alias audit datakey decrypt encrypt inspect key keyring mac policy principal random reencrypt serve sign verify'
        _kmscli_options='--version'
        ;;
    'alias')
        _kmscli_commands='create delete list update'
        ;;
    'alias create')
        _kmscli_arguments='none key'
        ;;
    'alias delete')
        _kmscli_arguments='alias'
        ;;
    'alias list')
        _kmscli_options='--key'
        _kmscli_valued='--key=key'
        ;;
    'alias update')
        _kmscli_arguments='alias key'
        ;;
    'audit')
        _kmscli_options='--key --since --verify'
        _kmscli_valued='--key=key --since=none'
        ;;
    'datakey')
        _kmscli_commands='decrypt generate pair'
        ;;
    'datakey decrypt')
        _kmscli_options='-c --context -k --key -o --output -f --force --show-plaintext --grant-token'
        _kmscli_valued='-c=none --context=none -k=key --key=key -o=file --output=file --grant-token=none'
        _kmscli_arguments='file'
        ;;
    'datakey generate')
        _kmscli_options='-k --key --key-spec --bytes -c --context --no-plaintext --ciphertext-out --plaintext-out -f --force --show-plaintext --grant-token'
        _kmscli_valued='-k=key --key=key --key-spec=datakey_generate_key_spec --bytes=none -c=none --context=none --ciphertext-out=file --plaintext-out=file --grant-token=none'
        ;;
    'datakey pair')
        _kmscli_options='-k --key --key-pair-spec -c --context --no-plaintext --ciphertext-out --private-key-out --public-key-out -f --force --show-plaintext --grant-token'
        _kmscli_valued='-k=key --key=key --key-pair-spec=none -c=none --context=none --ciphertext-out=file --private-key-out=file --public-key-out=file --grant-token=none'
        ;;
    'decrypt')
        _kmscli_options='-k --key -o --output -c --context --suffix -f --force --commitment-policy --max-encrypted-data-keys --max-frame-length --encryption-algorithm --grant-token --cache-max-age --cache-max-messages --cache-max-bytes'
        _kmscli_valued='-k=key --key=key -o=file --output=file -c=none --context=none --suffix=none --commitment-policy=decrypt_commitment_policy --max-encrypted-data-keys=none --max-frame-length=none --encryption-algorithm=decrypt_encryption_algorithm --grant-token=none --cache-max-age=none --cache-max-messages=none --cache-max-bytes=none'
        _kmscli_arguments='file...'
        ;;
    'encrypt')
        _kmscli_options='-k --key -o --output -c --context --suffix -f --force --frame-size --algorithm --direct --encryption-algorithm --grant-token --cache-max-age --cache-max-messages --cache-max-bytes'
        _kmscli_valued='-k=key --key=key -o=file --output=file -c=none --context=none --suffix=none --frame-size=none --algorithm=suites --encryption-algorithm=encrypt_encryption_algorithm --grant-token=none --cache-max-age=none --cache-max-messages=none --cache-max-bytes=none'
        _kmscli_arguments='file...'
        ;;
    'inspect')
        _kmscli_options='--max-encrypted-data-keys'
        _kmscli_valued='--max-encrypted-data-keys=none'
        _kmscli_arguments='file'
        ;;
    'key')
        _kmscli_commands='cancel-deletion create delete-material derive-shared-secret describe disable enable import-material import-parameters list public-key replicate rotate rotation schedule-deletion tag tags untag update-description update-primary-region'
        ;;
    'key cancel-deletion')
        _kmscli_arguments='key'
        ;;
    'key create')
        _kmscli_options='--description --key-spec --key-usage --origin --multi-region --policy --tag --alias --bypass-policy-lockout-safety-check'
        _kmscli_valued='--description=none --key-spec=key_specs --key-usage=key_usages --origin=key_create_origin --policy=file --tag=none --alias=none'
        ;;
    'key delete-material')
        _kmscli_options='--key-material-id'
        _kmscli_valued='--key-material-id=none'
        _kmscli_arguments='key'
        ;;
    'key derive-shared-secret')
        _kmscli_options='--public-key --algorithm -o --output -f --force --show-plaintext --grant-token'
        _kmscli_valued='--public-key=file --algorithm=none -o=file --output=file --grant-token=none'
        _kmscli_arguments='key'
        ;;
    'key describe')
        _kmscli_options='--grant-token'
        _kmscli_valued='--grant-token=none'
        _kmscli_arguments='key'
        ;;
    'key disable')
        _kmscli_arguments='key'
        ;;
    'key enable')
        _kmscli_arguments='key'
        ;;
    'key import-material')
        _kmscli_options='--material --token --valid-to --no-expiry'
        _kmscli_valued='--material=file --token=file --valid-to=none'
        _kmscli_arguments='key'
        ;;
    'key import-parameters')
        _kmscli_options='--wrapping-algorithm --wrapping-key-spec --out-dir -f --force'
        _kmscli_valued='--wrapping-algorithm=key_import_parameters_wrapping_algorithm --wrapping-key-spec=key_import_parameters_wrapping_key_spec --out-dir=dir'
        _kmscli_arguments='key'
        ;;
    'key list')
        ;;
    'key public-key')
        _kmscli_options='-o --output --pem -f --force --grant-token'
        _kmscli_valued='-o=file --output=file --grant-token=none'
        _kmscli_arguments='key'
        ;;
    'key replicate')
        _kmscli_options='--replica-region --description --policy --tag --bypass-policy-lockout-safety-check'
        _kmscli_valued='--replica-region=regions --description=none --policy=file --tag=none'
        _kmscli_arguments='key'
        ;;
    'key rotate')
        _kmscli_arguments='key'
        ;;
    'key rotation')
        _kmscli_commands='disable enable list status'
        ;;
    'key rotation disable')
        _kmscli_arguments='key'
        ;;
    'key rotation enable')
        _kmscli_options='--period-days'
        _kmscli_valued='--period-days=none'
        _kmscli_arguments='key'
        ;;
    'key rotation list')
        _kmscli_options='--include-key-material --limit --marker'
        _kmscli_valued='--include-key-material=key_rotation_list_include_key_material --limit=none --marker=none'
        _kmscli_arguments='key'
        ;;
    'key rotation status')
        _kmscli_arguments='key'
        ;;
    'key schedule-deletion')
        _kmscli_options='--days --yes'
        _kmscli_valued='--days=none'
        _kmscli_arguments='key'
        ;;
    'key tag')
        _kmscli_arguments='key none...'
        ;;
    'key tags')
        _kmscli_options='--limit --marker'
        _kmscli_valued='--limit=none --marker=none'
        _kmscli_arguments='key'
        ;;
    'key untag')
        _kmscli_arguments='key none...'
        ;;
    'key update-description')
        _kmscli_arguments='key none'
        ;;
    'key update-primary-region')
        _kmscli_arguments='key none'
        ;;
    'keyring')
        _kmscli_commands='backup init restore status verify'
        ;;
    'keyring backup')
        _kmscli_options='-f --force'
        _kmscli_arguments='file'
        ;;
    'keyring init')
        _kmscli_options='--passphrase --passphrase-file --account-id'
        _kmscli_valued='--passphrase-file=file --account-id=none'
        ;;
    'keyring restore')
        _kmscli_options='-f --force'
        _kmscli_arguments='file'
        ;;
    'keyring status')
        ;;
    'keyring verify')
        ;;
    'mac')
        _kmscli_commands='generate verify'
        ;;
    'mac generate')
        _kmscli_options='-k --key --algorithm -o --output --base64 -f --force --grant-token'
        _kmscli_valued='-k=key --key=key --algorithm=none -o=file --output=file --grant-token=none'
        _kmscli_arguments='file'
        ;;
    'mac verify')
        _kmscli_options='-k --key --mac --algorithm --grant-token'
        _kmscli_valued='-k=key --key=key --mac=file --algorithm=none --grant-token=none'
        _kmscli_arguments='file'
        ;;
    'policy')
        _kmscli_commands='get grant identity list put simulate validate'
        ;;
    'policy get')
        _kmscli_options='--policy-name'
        _kmscli_valued='--policy-name=none'
        _kmscli_arguments='key'
        ;;
    'policy grant')
        _kmscli_commands='create list list-retirable retire revoke'
        ;;
    'policy grant create')
        _kmscli_options='--grantee --operations --retiring --context-equals --context-subset --name --grant-token'
        _kmscli_valued='--grantee=none --operations=none --retiring=none --context-equals=none --context-subset=none --name=none --grant-token=none'
        _kmscli_arguments='key'
        ;;
    'policy grant list')
        _kmscli_options='--grant-id --grantee --limit --marker'
        _kmscli_valued='--grant-id=none --grantee=none --limit=none --marker=none'
        _kmscli_arguments='key'
        ;;
    'policy grant list-retirable')
        _kmscli_options='--limit --marker'
        _kmscli_valued='--limit=none --marker=none'
        _kmscli_arguments='none'
        ;;
    'policy grant retire')
        _kmscli_options='--token'
        _kmscli_valued='--token=none'
        _kmscli_arguments='key none'
        ;;
    'policy grant revoke')
        _kmscli_arguments='key none'
        ;;
    'policy identity')
        _kmscli_commands='delete get list put'
        ;;
    'policy identity delete')
        _kmscli_arguments='none none'
        ;;
    'policy identity get')
        _kmscli_arguments='none none'
        ;;
    'policy identity list')
        _kmscli_arguments='none'
        ;;
    'policy identity put')
        _kmscli_arguments='none none file'
        ;;
    'policy list')
        _kmscli_arguments='key'
        ;;
    'policy put')
        _kmscli_options='--policy-name --bypass-policy-lockout-safety-check'
        _kmscli_valued='--policy-name=none'
        _kmscli_arguments='key file'
        ;;
    'policy simulate')
        _kmscli_options='--key --action -c --context --via-service --condition'
        _kmscli_valued='--key=key --action=none -c=none --context=none --via-service=none --condition=none'
        ;;
    'policy validate')
        _kmscli_options='--identity'
        _kmscli_arguments='file'
        ;;
    'principal')
        _kmscli_commands='access-key'
        ;;
    'principal access-key')
        _kmscli_commands='create delete list'
        ;;
    'principal access-key create')
        _kmscli_arguments='none'
        ;;
    'principal access-key delete')
        _kmscli_arguments='none'
        ;;
    'principal access-key list')
        _kmscli_options='--principal'
        _kmscli_valued='--principal=none'
        ;;
    'random')
        _kmscli_options='--bytes -o --output -f --force'
        _kmscli_valued='--bytes=none -o=file --output=file'
        ;;
    'reencrypt')
        _kmscli_options='-k --key -c --context --new-context --source-key -o --output -f --force --header-only --commitment-policy --max-encrypted-data-keys --max-frame-length --grant-token'
        _kmscli_valued='-k=key --key=key -c=none --context=none --new-context=none --source-key=key -o=file --output=file --commitment-policy=reencrypt_commitment_policy --max-encrypted-data-keys=none --max-frame-length=none --grant-token=none'
        _kmscli_arguments='file...'
        ;;
    'serve')
        _kmscli_options='--host --port --max-connections --request-timeout'
        _kmscli_valued='--host=none --port=none --max-connections=none --request-timeout=none'
        ;;
    'sign')
        _kmscli_options='-k --key --algorithm --message-type -o --output --base64 -f --force --grant-token'
        _kmscli_valued='-k=key --key=key --algorithm=none --message-type=sign_message_type -o=file --output=file --grant-token=none'
        _kmscli_arguments='file'
        ;;
    'verify')
        _kmscli_options='-k --key --signature --algorithm --message-type --grant-token'
        _kmscli_valued='-k=key --key=key --signature=file --algorithm=none --message-type=verify_message_type --grant-token=none'
        _kmscli_arguments='file'
        ;;
    *) return 1 ;;
    esac
}

# The key IDs and alias names of the current region, one a line, from kmscli's piped listings
# (a header line, then one record a line, its ID first). $1: the word being completed, $2: key
# (IDs and aliases) or alias (aliases only), then the --home, --region and --profile options of
# the command line. kmscli finds the keyring itself (options, environment, config.toml and its
# profiles), and a listing never creates one: a missing keyring offers nothing. Silent.
_kmscli_keys() {
    local cur=$1 kind=$2
    shift 2
    if [[ alias/ == "$cur"* || $cur == alias/* ]]; then
        kmscli "$@" alias list </dev/null 2>/dev/null | tail -n +2 | cut -f1
    fi
    if [[ $kind == key && $cur != alias/* ]]; then
        kmscli "$@" key list </dev/null 2>/dev/null | tail -n +2 | cut -f1
    fi
}

# Sets _kmscli_kind to what option $1 takes on the current command; fails for a flag.
_kmscli_value_kind() {
    local spec
    for spec in $_kmscli_valued $_kmscli_global_valued; do
        if [[ ${spec%%=*} == "$1" ]]; then
            _kmscli_kind=${spec#*=}
            return 0
        fi
    done
    return 1
}

# COMPREPLY from the lines of stdin.
_kmscli_reply() {
    local line
    COMPREPLY=()
    while IFS= read -r line; do
        COMPREPLY+=("$line")
    done
}

_kmscli() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
    local path= word= ended= _kmscli_kind=
    local -i i=1 positional=0
    local -a arguments global
    COMPREPLY=()
    _kmscli_spec ''
    # The words before the cursor: the command path, the positional arguments given so far,
    # and --home / --region / --profile (the key listing must read the same keyring and region).
    while ((i < COMP_CWORD)); do
        word=${COMP_WORDS[i]}
        if [[ -z $ended && $word == -?* ]]; then
            if [[ $word == -- ]]; then
                ended=1
            elif _kmscli_value_kind "$word"; then
                [[ ${COMP_WORDS[i+1]} == = ]] && ((i++)) # bash splits --opt=value at the =
                ((i++))
                case $word in
                --home) global+=(--home "${COMP_WORDS[i]/#\~/$HOME}") ;;
                --region | --profile) global+=("$word" "${COMP_WORDS[i]}") ;;
                esac
            fi
        elif ((positional == 0)) && [[ " $_kmscli_commands " == *" $word "* ]]; then
            path=${path:+$path }$word
            _kmscli_spec "$path"
        else
            ((positional++))
        fi
        ((i++))
    done

    if [[ -z $ended && $cur == = ]] && _kmscli_value_kind "$prev"; then
        cur=
    elif [[ -z $ended && $prev == = ]] && _kmscli_value_kind "${COMP_WORDS[COMP_CWORD-2]}"; then
        :
    elif [[ -z $ended ]] && _kmscli_value_kind "$prev"; then
        :
    elif [[ -z $ended && $cur == -* ]]; then
        _kmscli_kind=options
    elif [[ -n $_kmscli_commands ]]; then
        _kmscli_kind=commands
    else
        read -ra arguments <<<"$_kmscli_arguments"
        if ((positional < ${#arguments[@]})); then
            _kmscli_kind=${arguments[positional]}
        elif ((${#arguments[@]})); then
            _kmscli_kind=${arguments[${#arguments[@]}-1]}
            [[ $_kmscli_kind == *... ]] || _kmscli_kind=none
        fi
        _kmscli_kind=${_kmscli_kind%...}
    fi

    local words=
    case $_kmscli_kind in
    options) words="$_kmscli_options $_kmscli_global_options" ;;
    commands) words=$_kmscli_commands ;;
    key | alias) words=$(_kmscli_keys "$cur" "$_kmscli_kind" "${global[@]}") ;;
    file | dir)
        compopt -o filenames 2>/dev/null
        if [[ $_kmscli_kind == dir ]]; then
            _kmscli_reply < <(compgen -d -- "$cur")
        else
            _kmscli_reply < <(compgen -f -- "$cur")
        fi
        return 0
        ;;
    none | '') return 0 ;;
    *)
        local list=_kmscli_$_kmscli_kind
        words=${!list}
        ;;
    esac
    _kmscli_reply < <(compgen -W "$words" -- "$cur")
}

complete -F _kmscli kmscli
