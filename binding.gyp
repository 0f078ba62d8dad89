# The addon: every native/**/*.cc (listed by scripts/native-sources.mjs) plus libsecp256k1,
# built from the C source that the secp256k1 npm package ships. OpenSSL symbols resolve
# from the node binary at load time; its headers come with Node's own include dir.
# scripts/build-native.mjs mirrors these flags for the dev, debug and ASan builds.
{
  'variables': {
    'secp_dir': '<!(node scripts/native-sources.mjs --secp-dir)',
  },
  'targets': [
    {
      'target_name': 'secp256k1',
      'type': 'static_library',
      'sources': ['<!(node scripts/native-sources.mjs --secp)'],
      'include_dirs': ['<(secp_dir)', '<(secp_dir)/src'],
      'cflags': ['-fPIC', '-O2', '-Wno-unused-function', '-Wno-nonnull-compare'],
      'cflags!': ['-Werror'],
      'defines': [
        'ECMULT_GEN_PREC_BITS=4', 'ECMULT_WINDOW_SIZE=15', 'USE_ENDOMORPHISM=1',
        'USE_NUM_NONE=1', 'USE_FIELD_INV_BUILTIN=1', 'USE_SCALAR_INV_BUILTIN=1',
        'HAVE___INT128=1', 'USE_ASM_X86_64=1', 'USE_FIELD_5X52=1', 'USE_SCALAR_4X64=1',
      ],
    },
    {
      'target_name': 'ringlay',
      'dependencies': ['secp256k1'],
      'sources': ['<!@(node scripts/native-sources.mjs)'],
      'include_dirs': [
        '<!(node -p "require(\'node-addon-api\').include_dir")',
        'native',
        '<(secp_dir)/include',
      ],
      'defines': ['NAPI_VERSION=8', 'NAPI_DISABLE_CPP_EXCEPTIONS', 'NODE_ADDON_API_DISABLE_DEPRECATED'],
      'cflags': ['-Wall', '-Wextra', '-Werror', '-fvisibility=hidden', '-pthread'],
      'cflags_cc': ['-std=c++20', '-fno-exceptions', '-Wno-missing-field-initializers'],
      'ldflags': ['-pthread'],
      'configurations': {
        'Release': {'cflags': ['-O2']},
        'Debug': {'defines': ['NODE_ADDON_API_ENABLE_TYPE_CHECK_ON_AS', 'RINGLAY_DEBUG=1']},
      },
    },
  ],
}
