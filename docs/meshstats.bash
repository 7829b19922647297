# bash completion for meshstats
_meshstats()
{
    local cur prev
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD-1]}
    local opts="--config --input-var --output-var --sample-timesteps
        --skip-nonfinite --samples --sample-list --split --workers --prefetch
        --memory-limit --throttle --json --write-back --no-write-back
        --per-sample --top --progress --quiet --strict --print-config --help
        --version"
    case "$prev" in
    -c|--config|--sample-list|--per-sample)
        COMPREPLY=($(compgen -f -- "$cur"))
        return ;;
    --json)
        COMPREPLY=($(compgen -f -- "$cur") -)
        return ;;
    --progress)
        COMPREPLY=($(compgen -W "auto always never" -- "$cur"))
        return ;;
    --split)
        COMPREPLY=($(compgen -W "train val test" -- "$cur"))
        return ;;
    -j|--workers|--prefetch)
        COMPREPLY=($(compgen -W "auto 1 2 4 8" -- "$cur"))
        return ;;
    esac
    if [ "$COMP_CWORD" -eq 1 ] && [[ "$cur" != -* ]]; then
        COMPREPLY=($(compgen -W "generate demo config" -- "$cur")
                   $(compgen -f -X '!*.h5' -- "$cur") $(compgen -d -- "$cur"))
        return
    fi
    if [[ "$cur" == -* ]]; then
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
    else
        COMPREPLY=($(compgen -f -X '!*.h5' -- "$cur") $(compgen -d -- "$cur"))
    fi
}
complete -F _meshstats meshstats
