# Turn formats/*.tsv into C field tables (mode=c), their header (mode=h) or the README's
# field reference (mode=md).  Usage: awk -v mode=c -f formats/gen.awk formats/*.tsv
# POSIX awk only.
BEGIN { FS = "\t"; nk = 0 }

function cstr(s) {
    if (s == "-" || s == "") return "NULL"
    gsub(/\\/, "\\\\", s); gsub(/"/, "\\\"", s)
    return "\"" s "\""
}
function expand(s, i) {
    gsub(/\{NN\}/, sprintf("%02d", i), s)
    gsub(/\{N\}/, i "", s)
    return s
}
function add(k, name, type, pres, src, alias, meaning,   t, max, en, n) {
    n = ++nf[k]
    F_name[k, n] = name; F_src[k, n] = src; F_alias[k, n] = alias; F_mean[k, n] = meaning
    F_pres[k, n] = pres
    max = 0; en = "-"
    t = type
    if (t ~ /^text:/) { max = substr(t, 6) + 0; t = "text" }
    if (t ~ /^enum:/) { en = substr(t, 6); t = "enum" }
    F_type[k, n] = t; F_max[k, n] = max; F_enum[k, n] = en
    F_typetext[k, n] = type
}
FNR == 1 {
    k = FILENAME; sub(/.*\//, "", k); sub(/\.tsv$/, "", k)
    kinds[++nk] = k; nf[k] = 0; header = 1
    kdoc[k] = ""
}
/^#/ {
    if (FNR == 1) { d = $0; sub(/^# */, "", d); kdoc[k] = d }
    next
}
/^[ \t]*$/ { next }
header { header = 0; next }
{
    if (NF != 6) { printf("%s:%d: expected 6 tab-separated columns, got %d\n", FILENAME, FNR, NF) > "/dev/stderr"; exit 1 }
    if ($1 ~ /\{NN\}/) {
        for (i = 1; i <= 20; i++)
            add(k, expand($1, i), $2, $3, expand($4, i), expand($5, i), expand($6, i))
    } else {
        add(k, $1, $2, $3, $4, $5, $6)
    }
}
function upper(s) { return toupper(s) }
END {
    if (mode == "h") {
        print "/* Generated from the formats/ schemas by formats/gen.awk: do not edit. */"
        print "#ifndef PB_SCHEMAS_H"
        print "#define PB_SCHEMAS_H"
        print ""
        print "#include \"posbridge/schema.h\""
        print ""
        for (j = 1; j <= nk; j++) {
            k = kinds[j]
            print "enum pb_" k "_field {"
            for (n = 1; n <= nf[k]; n++)
                printf("    PB_%s_%s = %d,\n", upper(k), upper(F_name[k, n]), n - 1)
            printf("    PB_%s__COUNT = %d\n};\n", upper(k), nf[k])
            print "extern const struct pb_schema pb_schema_" k ";"
            print ""
        }
        print "/* Every schema, NULL-terminated. */"
        print "extern const struct pb_schema *const pb_schemas[];"
        print ""
        print "#endif"
    } else if (mode == "c") {
        print "/* Generated from the formats/ schemas by formats/gen.awk: do not edit. */"
        print "#include \"pb_schemas.h\""
        print ""
        for (j = 1; j <= nk; j++) {
            k = kinds[j]
            print "static const struct pb_field " k "_fields[] = {"
            for (n = 1; n <= nf[k]; n++) {
                t = "PB_T_" upper(F_type[k, n])
                p = "PB_" upper(F_pres[k, n])
                printf("    {%s, %s, %d, %s, %s, %s, %s, %s},\n", cstr(F_name[k, n]), t,
                       F_max[k, n], p, cstr(F_src[k, n]), cstr(F_alias[k, n]),
                       cstr(F_enum[k, n]), cstr(F_mean[k, n]))
            }
            print "};"
            printf("static const int %s_required[] = {", k)
            for (n = 1; n <= nf[k]; n++)
                if (F_pres[k, n] == "required")
                    printf("%d, ", n - 1)
            print "-1};"
            printf("const struct pb_schema pb_schema_%s = {\"%s\", %s_fields, %d, %s_required};\n\n", k, k, k, nf[k], k)
        }
        print "const struct pb_schema *const pb_schemas[] = {"
        for (j = 1; j <= nk; j++) print "    &pb_schema_" kinds[j] ","
        print "    NULL,"
        print "};"
    } else if (mode == "md") {
        for (j = 1; j <= nk; j++) {
            k = kinds[j]
            printf("#### `%s`\n\n", k)
            if (kdoc[k] != "") printf("%s\n\n", kdoc[k])
            print "| field | type | presence | meaning |"
            print "|---|---|---|---|"
            for (n = 1; n <= nf[k]; n++) {
                m = F_mean[k, n]; gsub(/\|/, "\\|", m)
                ty = F_typetext[k, n]; gsub(/\|/, "\\|", ty)
                if (F_name[k, n] ~ /_(0[2-9]|1[0-9]|20)$/ && F_pres[k, n] == "sparse") continue
                nm = F_name[k, n]
                if (F_pres[k, n] == "sparse" && nm ~ /_01$/) { sub(/_01$/, "_01` … `" substr(nm, 1, length(nm) - 2) "20", nm); sub(/ 1\./, " N (1 to 20).", m) }
                printf("| `%s` | %s | %s | %s |\n", nm, ty, F_pres[k, n], m)
            }
            print ""
        }
    }
}
