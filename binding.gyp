{
  "targets": [
    {
      "target_name": "pavsearch",
      "sources": [
        "<!@(node -p \"require('fs').readdirSync('native/core').filter(f=>f.endsWith('.cpp')).map(f=>'native/core/'+f).join(' ')\")",
        "<!@(node -p \"require('fs').readdirSync('native/addon').filter(f=>f.endsWith('.cpp')).map(f=>'native/addon/'+f).join(' ')\")"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "native"
      ],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-O3", "-fexceptions"],
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17"
      },
      "msvs_settings": {
        "VCCLCompilerTool": { "ExceptionHandling": 1 }
      }
    }
  ]
}
